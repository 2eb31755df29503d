"""`make load ARGS=--quick` against a real stack: no message lost, doubled or unanswered."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.crowd import run_load
from bench.plan import Plan, quick
from scripts.stack import running_stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_under_a_quick_load_every_message_reaches_the_other_side_once_in_order(tmp_path: Path):
    # A stack of its own: the crowd's queue and agents on duty would disturb the other tests.
    with running_stack(tmp_path) as stack:
        outcome = run_load(stack, quick(Plan()), progress=False)

    seen = outcome.seen
    to_agent, to_customer = outcome.customer_to_agent, outcome.agent_to_customer
    # The run did what it is for: questions, and handoffs with messages both ways.
    assert len(seen.questions) > 20
    assert seen.events["conversations claimed"] > 0, seen.events
    assert to_agent.sent > 0 and to_customer.sent > 0, (to_agent, to_customer)
    # Each message is counted once, as delivered or as lost.
    assert to_agent.consistent and to_customer.consistent, (to_agent, to_customer)
    # What a customer or an agent would notice.
    for direction, result in (("customer to agent", to_agent), ("agent to customer", to_customer)):
        assert (result.lost, result.doubled, result.out_of_order) == (0, 0, 0), (
            direction,
            result,
            seen.errors,
        )
    assert seen.unanswered() == 0, f"{seen.unanswered()} questions got no reply at all"
