"""Accounting of a load run: what counts as lost, doubled, out of order."""

from __future__ import annotations

from bench.accounting import Ledger, Observations, Tally, tag_of, tagged, tally


def test_messages_that_arrive_once_in_order_are_all_delivered():
    assert tally(["a", "b", "c"], ["a", "b", "c"]) == Tally(sent=3, delivered=3)


def test_a_missing_message_is_lost_and_a_repeated_one_doubled_once():
    result = tally(["a", "b", "c"], ["a", "c", "c", "c"])

    assert (result.delivered, result.lost, result.doubled) == (2, 1, 1)
    assert result.consistent


def test_a_message_arriving_after_a_later_one_is_out_of_order():
    # b and c overtook a; a copy of a already seen does not make things worse.
    assert tally(["a", "b", "c", "d"], ["b", "c", "a", "d", "a"]).out_of_order == 1
    assert tally(["a", "b", "c"], ["c", "b", "a"]).out_of_order == 2


def test_arrivals_nobody_sent_are_unexpected_not_delivered():
    result = tally(["a"], ["a", "x", "x"])

    assert (result.delivered, result.unexpected) == (1, 2)


def test_a_ledger_sums_its_conversations_and_times_the_first_arrival():
    ledger = Ledger()
    ledger.sent("one", "a", 1.0)
    ledger.sent("one", "b", 2.0)
    ledger.sent("two", "c", 3.0)
    ledger.arrived("one", "b", 2.5)
    ledger.arrived("one", "a", 4.0)
    ledger.arrived("one", "a", 9.0)

    assert ledger.tally() == Tally(sent=3, delivered=2, lost=1, doubled=1, out_of_order=1)
    assert ledger.undelivered() == 1
    assert ledger.latencies() == [(1.0, 3.0), (2.0, 0.5)]


def test_a_tag_survives_the_trip_and_plain_text_has_none():
    assert tag_of(tagged("Thanks, I'm still here.", "load-3-0af1-2")) == "load-3-0af1-2"
    assert tag_of("I'm back. Is there anything else I can help you with?") is None


def test_a_customer_message_counts_for_the_agent_who_took_the_conversation():
    seen = Observations()
    for message, at in (("m1", 1.0), ("m2", 2.0), ("m3", 5.0)):
        seen.customer_sent.sent("c", message, at)
    seen.claimed_by["c"] = 3
    seen.stream_arrivals[3].arrived("c", "m1", 1.5)
    seen.stream_arrivals[3].arrived("c", "m3", 5.5)  # late, after the resolve: still hers
    seen.stream_arrivals[0].arrived("c", "m2", 2.5)  # another agent's stream does not count

    assert seen.customer_to_agent().tally().lost == 1
    assert seen.customer_to_agent().missing() == [("c", "m2", 2.0)]
