"""Agent messages reach the customer once and in order, through a lost record and a killed worker.

Real processes: the customer's widget socket, Rasa with `bot.pushes`, the handoff server's
gunicorn worker and its outbox.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from handoff_server.db import outbox
from scripts.stack import Stack, serving_process
from tests.e2e.clients import (
    QUIET_PERIOD_S,
    WidgetClient,
    agent_api,
    wait_for,
    wait_until_queued,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# The outbox takes a push back this long after its deliverer vanished (LEASE_S), plus a pass.
REDELIVERY_TIMEOUT_S = 30


@pytest.fixture
def handed_over(stack: Stack, agent_token: str) -> Iterator[tuple[WidgetClient, int]]:
    """A widget customer whose conversation the agent has claimed."""
    widget = WidgetClient(stack.rasa_url)
    widget.say("I want to talk to a real person please")
    widget.reply_containing("queue")
    queued = wait_until_queued(stack, agent_token, widget.session_id)
    agent_api(stack, agent_token, "POST", f"/api/conversations/{queued['id']}/claim")
    widget.reply_containing("has joined the conversation")
    yield widget, queued["id"]
    widget.close()


def outbox_rows(stack: Stack) -> sa.Engine:
    return sa.create_engine(stack.env["DATABASE_URL"])


def texts_until(widget: WidgetClient, expected: list[str]) -> list[str]:
    """Collect the customer's texts until `expected` all arrived, then a quiet period more."""
    seen: list[str] = []
    deadline = time.monotonic() + REDELIVERY_TIMEOUT_S
    while not set(expected) <= set(seen) and time.monotonic() < deadline:
        seen += [reply.get("text", "") for reply in widget.drain(1)]
    return seen + [reply.get("text", "") for reply in widget.drain(QUIET_PERIOD_S)]


def test_a_push_sent_again_after_its_record_was_lost_is_shown_once(
    stack: Stack, agent_token: str, handed_over: tuple[WidgetClient, int]
):
    widget, conversation_id = handed_over
    path = f"/api/conversations/{conversation_id}/messages"
    agent_api(stack, agent_token, "POST", path, json={"text": "Checking your booking now."})
    widget.reply_containing("Checking your booking now.")

    # As if the deliverer died after Rasa took the push and before the outbox recorded it.
    engine = outbox_rows(stack)
    with engine.begin() as conn:
        resent = conn.execute(
            outbox.update()
            .where(outbox.c.conversation_id == conversation_id)
            .where(outbox.c.intent == "EXTERNAL_agent_message")
            .values(status="pending", lease_until=None)
        ).rowcount
    engine.dispose()
    agent_api(stack, agent_token, "POST", path, json={"text": "Found it."})

    assert resent == 1
    seen = texts_until(widget, ["Found it."])
    assert [text for text in seen if text in ("Checking your booking now.", "Found it.")] == [
        "Found it."
    ]


def test_killing_the_handoff_worker_mid_push_loses_doubles_and_reorders_nothing(
    stack: Stack, agent_token: str, handed_over: tuple[WidgetClient, int]
):
    widget, conversation_id = handed_over
    rasa = serving_process(stack.env["RASA_PORT"])
    worker = serving_process(stack.env["HANDOFF_PORT"])
    sent = ["One moment.", "I see the booking.", "The refund is on its way.", "Anything else?"]
    engine = outbox_rows(stack)

    def leased() -> bool:
        with engine.connect() as conn:
            return bool(
                conn.execute(
                    sa.select(outbox.c.id)
                    .where(outbox.c.conversation_id == conversation_id)
                    .where(outbox.c.status == "pending")
                    .where(outbox.c.lease_until.is_not(None))
                ).first()
            )

    # Rasa holds the first push while the worker waits on it; the worker dies mid-push.
    os.kill(rasa, signal.SIGSTOP)
    try:
        for text in sent:
            agent_api(
                stack,
                agent_token,
                "POST",
                f"/api/conversations/{conversation_id}/messages",
                json={"text": text},
            )
        wait_for(leased, "a deliverer to hold the first push", timeout=10)
        os.kill(worker, signal.SIGKILL)
    finally:
        os.kill(rasa, signal.SIGCONT)
    engine.dispose()

    seen = texts_until(widget, sent)
    assert [text for text in seen if text in sent] == sent
    # gunicorn replaced the worker, and the conversation goes on.
    assert wait_for(lambda: serving_process(stack.env["HANDOFF_PORT"]) != worker, "a new worker")
