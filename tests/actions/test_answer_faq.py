"""action_answer_faq: answer, suggest, don't know, escalate, and failing honestly."""

from __future__ import annotations

import pytest
from rasa_sdk.events import SlotSet

from actions import answer_faq, faq_sync
from actions.answer_faq import ActionAnswerFaq
from actions.faq.engine import FaqEngine
from knowledge_base.faqs import Faq, load_knowledge_base
from tests.actions.conftest import (
    EMERGENCY,
    FEES,
    REFUND,
    FakeEngine,
    FakeHandoffClient,
    decision,
    make_tracker,
    user_event,
)


def run(engine, dispatcher, text="when is my refund", metadata=None, client=None):
    tracker = make_tracker([user_event(text, "ask_question", metadata=metadata)])
    action = ActionAnswerFaq(engine=engine, client=client or FakeHandoffClient())
    return action.run(dispatcher, tracker, {})


CABIN = Faq(
    id="back_to_cabin",
    question="How do I get back to my cabin?",
    paraphrases=(),
    answer="You're at {kiosk_place} and it's {now}. Cabin 214 is on deck 2.",
    tags=("directions",),
    channels=("kiosk", "web"),
)


def test_an_answer_names_the_kiosks_place_and_the_time_on_board(dispatcher, monkeypatch):
    monkeypatch.setenv("VENUE_NOW", "2026-12-01T21:45")
    at_the_lounge = {"channel": "kiosk", "kiosk_id": "lounge-3", "kiosk_place": "lounge"}
    run(FakeEngine(decision("answer", CABIN)), dispatcher, metadata=at_the_lounge)
    assert dispatcher.messages[0]["text"] == (
        "You're at the Lounge and it's 21:45. Cabin 214 is on deck 2."
    )


def test_away_from_a_kiosk_the_place_is_the_information_desk(dispatcher, monkeypatch):
    monkeypatch.setenv("VENUE_NOW", "2026-12-01T09:05")
    run(FakeEngine(decision("answer", CABIN)), dispatcher, metadata={"channel": "web"})
    assert dispatcher.messages[0]["text"] == (
        "You're at Reception and it's 09:05. Cabin 214 is on deck 2."
    )


def test_answer_sends_the_approved_text_with_its_buttons(dispatcher):
    events = run(FakeEngine(decision("answer", REFUND)), dispatcher)
    assert dispatcher.messages[0]["text"] == REFUND.answer
    assert dispatcher.messages[0]["buttons"] == [
        {"title": "Cancellation fees", "payload": "What are the cancellation fees?"}
    ]
    assert (
        SlotSet(
            "faq_result",
            {
                "text": "when is my refund",
                "kind": "answer",
                "hits": [{"faq_id": "refund_timeline", "score": 0.9}],
                "tags": ["refunds", "payments"],
            },
        )
        in events
    )


def test_suggest_offers_each_faq_and_none_of_these_as_buttons(dispatcher):
    run(FakeEngine(decision("suggest", REFUND, FEES)), dispatcher)
    (message,) = dispatcher.messages
    assert message["response"] == "utter_did_you_mean"
    assert [button["title"] for button in message["buttons"]] == [
        REFUND.question,
        FEES.question,
        "None of these",
    ]
    assert message["buttons"][-1]["payload"] == "/reject_suggestions"


def test_nothing_fits_says_so_and_offers_a_person(dispatcher):
    events = run(FakeEngine(decision("none")), dispatcher)
    (message,) = dispatcher.messages
    assert message["response"] == "utter_dont_know"
    assert message["buttons"] == [{"title": "Talk to a person", "payload": "/request_human"}]
    assert events[0]["value"]["kind"] == "none"


def test_a_question_nothing_fits_is_recorded_for_the_faq_gaps_report(dispatcher):
    client = FakeHandoffClient()
    run(FakeEngine(decision("none")), dispatcher, metadata={"channel": "kiosk"}, client=client)
    assert client.unanswered == [
        {
            "sender_id": "customer-1",
            "channel": "kiosk",
            "text": "when is my refund",
            "outcome": "none",
            "suggestions": [],
            "embedding": [len("when is my refund"), 0, 0],
        }
    ]


def test_the_faq_gaps_report_keeps_no_email_or_phone_of_the_customer(dispatcher):
    client = FakeHandoffClient()
    text = "can you mail the menu to jo.berg@example.com or text +44 7700 900123"
    run(FakeEngine(decision("none")), dispatcher, text=text, client=client)
    (question,) = client.unanswered
    assert question["text"] == "can you mail the menu to [email address] or text [phone number]"


def test_every_decision_is_recorded_for_reports_without_the_customers_words(dispatcher):
    client = FakeHandoffClient()
    run(FakeEngine(decision("answer", REFUND)), dispatcher, client=client)
    run(FakeEngine(decision("suggest", REFUND, FEES)), dispatcher, client=client)
    run(FakeEngine(decision("none")), dispatcher, metadata={"channel": "kiosk"}, client=client)
    assert client.decisions == [
        {"sender_id": "customer-1", "channel": "web", "kind": "answer", "faq_id": REFUND.id},
        {"sender_id": "customer-1", "channel": "web", "kind": "suggest", "faq_id": None},
        {"sender_id": "customer-1", "channel": "kiosk", "kind": "none", "faq_id": None},
    ]


def test_the_customer_hears_i_dont_know_even_if_the_gap_cannot_be_recorded(dispatcher):
    run(FakeEngine(decision("none")), dispatcher, client=FakeHandoffClient(fail=True))
    assert dispatcher.messages[0]["response"] == "utter_dont_know"


def test_sensitive_faq_answers_then_hands_off_at_once(dispatcher):
    client = FakeHandoffClient()
    engine = FakeEngine(decision("answer", EMERGENCY))
    events = run(engine, dispatcher, metadata={"channel": "kiosk"}, client=client)
    assert dispatcher.messages[0]["text"] == EMERGENCY.answer
    assert "in the queue" in dispatcher.messages[1]["text"]
    (packet,) = client.packets
    assert packet["reason"] == "sensitive_topic"
    assert packet["channel"] == "kiosk"
    # The answer just given is in the transcript the agent reads.
    assert packet["transcript"][-1] == {"role": "bot", "text": EMERGENCY.answer}
    assert SlotSet("handoff_active", True) in events


def test_the_customers_channel_limits_the_search(dispatcher):
    engine = FakeEngine(decision("none"))
    run(engine, dispatcher, metadata={"channel": "kiosk", "kiosk_id": "deck2-lobby"})
    assert engine.channels == ["kiosk"]


def test_a_broken_index_tells_the_customer_and_hands_off(dispatcher):
    client = FakeHandoffClient()
    events = run(FakeEngine(RuntimeError("index missing")), dispatcher, client=client)
    assert dispatcher.messages[0]["response"] == "utter_faq_unavailable"
    assert client.packets[0]["reason"] == "bot_failure"
    assert SlotSet("handoff_active", True) in events


def test_with_the_handoff_server_down_too_the_customer_is_told_how_to_reach_us(dispatcher):
    client = FakeHandoffClient(fail=True)
    events = run(FakeEngine(RuntimeError("index missing")), dispatcher, client=client)
    assert [message["response"] for message in dispatcher.messages] == [
        "utter_faq_unavailable",
        "utter_handoff_unavailable",
    ]
    assert SlotSet("handoff_active", True) not in events


@pytest.mark.slow
def test_the_shared_engine_answers_what_was_taught_from_the_first_question(
    dispatcher, monkeypatch, built_index_dir, encoder, fixture_kb
):
    taught = "is the dosh back yet"
    # The action server's one engine, on the fixture KB; nothing taught it this yet.
    engine = FaqEngine(index_dir=built_index_dir, faq_dir=fixture_kb, encoder=encoder)
    before = engine.decide(taught, channel="web")
    assert before.kind != "answer" or before.hits[0].faq.id != "refund_timeline"
    # A supervisor taught it in the console before this action server started.
    handoff_server = FakeHandoffClient()
    handoff_server.taught = [{"id": 1, "faq_id": "refund_timeline", "text": taught}]
    monkeypatch.setattr(faq_sync, "_process_sync", None)
    monkeypatch.setattr(faq_sync, "HandoffClient", lambda: handoff_server)
    monkeypatch.setattr(faq_sync, "get_engine", lambda: engine)
    monkeypatch.setattr(answer_faq, "get_engine", lambda: engine)
    # Built as the action server builds it: no engine given, so the shared one.
    action = ActionAnswerFaq(client=handoff_server)

    try:
        action.run(dispatcher, make_tracker([user_event(taught, "ask_question")]), {})
    finally:
        if faq_sync._process_sync is not None:
            faq_sync._process_sync.stop()

    refund = next(faq for faq in load_knowledge_base(fixture_kb) if faq.id == "refund_timeline")
    assert dispatcher.messages[0]["text"] == refund.answer
