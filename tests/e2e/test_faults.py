"""One process fails; the customer is not left in silence, and the process comes back.

The stack here runs as `make run` runs it, under the same supervisor configuration, with
its own ports and databases: the faults below never touch the session's shared stack.
"""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Iterator
from contextlib import suppress

import pytest
import requests

from lumen.vocabulary import REST_SENDERS
from scripts.stack import Stack, serving_process
from tests.e2e.clients import (
    BUSY_NOTICE,
    QUIET_PERIOD_S,
    WidgetClient,
    agent_api,
    claimed_by_an_agent,
    wait_for,
    wait_until_queued,
)
from tests.e2e.conftest import watched_stack
from tests.e2e.faqs import faq

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# From the fault until a restarted server answers again: Rasa loads its model for a minute
# or more on a busy machine.
RESTART_TIMEOUT_S = 240
FAILSAFE_TEXT = "something went wrong on my side"


@pytest.fixture(scope="module")
def supervised(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack of its own, for faults that must not reach other tests."""
    # The bot says it is busy after a second: well before the action call's timeout.
    with watched_stack(tmp_path_factory.mktemp("faults"), BUSY_NOTICE_AFTER_S="1") as stack:
        yield stack


@pytest.fixture(scope="module")
def one_at_a_time(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack whose Rasa takes one conversation's turn at a time: a second finds it full."""
    with watched_stack(
        tmp_path_factory.mktemp("full"), BUSY_NOTICE_AFTER_S="1", MAX_TURNS_IN_FLIGHT="1"
    ) as stack:
        yield stack


@pytest.fixture(scope="module")
def token(supervised: Stack) -> str:
    return supervised.log_in("alice", supervised.create_agent("alice"))


def restarted(stack: Stack, port: str, old_pid: int) -> None:
    """Wait until another process serves `port` and every server answers its health check."""

    def back() -> bool:
        try:
            return serving_process(port) != old_pid and stack.healthy()
        except LookupError:
            return False

    wait_for(back, f"a new process to serve port {port}", timeout=RESTART_TIMEOUT_S)


def asks_faq_and_gets_the_answer(stack: Stack, faq_id: str) -> None:
    """A new customer asks a question and gets the FAQ's answer."""
    entry = faq(faq_id)
    customer = WidgetClient(stack.rasa_url)
    try:
        customer.say(entry.paraphrases[0])
        customer.reply_containing(entry.answer.strip())
    finally:
        customer.close()


@pytest.mark.parametrize("fault", [signal.SIGKILL, signal.SIGSTOP], ids=["killed", "hung"])
def test_when_the_action_server_dies_or_hangs_the_customer_is_told_and_handed_off(
    supervised: Stack, token: str, fault: signal.Signals
):
    stack = supervised
    port = stack.env["ACTION_SERVER_PORT"]
    customer = WidgetClient(stack.rasa_url)
    try:
        wifi = faq("wifi_access")
        customer.say(wifi.paraphrases[0])
        customer.reply_containing(wifi.answer.strip())

        worker = serving_process(port)
        os.kill(worker, fault)
        question = faq("refund_timeline").paraphrases[0]
        customer.say(question)

        # Told within the reply timeout, not after minutes, and the team has the conversation.
        customer.reply_containing(FAILSAFE_TEXT)
        queued = wait_until_queued(stack, token, customer.session_id)
        assert queued["reason"] == "bot_failure"
        detail = agent_api(stack, token, "GET", f"/api/conversations/{queued['id']}")
        assert question in [turn["text"] for turn in detail["transcript"]]
    finally:
        customer.close()

    # The supervisor replaces the dead or hung process; the bot answers questions again.
    restarted(stack, port, worker)
    asks_faq_and_gets_the_answer(stack, "wifi_access")


def test_a_slow_turn_tells_the_customer_the_bot_is_busy_then_answers(supervised: Stack):
    stack = supervised
    worker = serving_process(stack.env["ACTION_SERVER_PORT"])
    wifi = faq("wifi_access")
    customer = WidgetClient(stack.rasa_url)
    try:
        os.kill(worker, signal.SIGSTOP)
        try:
            customer.say(wifi.paraphrases[0])
            customer.reply_containing(BUSY_NOTICE)
        finally:
            os.kill(worker, signal.SIGCONT)
        customer.reply_containing(wifi.answer.strip())
    finally:
        customer.close()


def test_a_full_rasa_refuses_a_message_saying_it_is_busy_and_takes_it_again(
    one_at_a_time: Stack,
):
    stack = one_at_a_time
    worker = serving_process(stack.env["ACTION_SERVER_PORT"])
    wifi = faq("wifi_access")
    first, second = WidgetClient(stack.rasa_url), WidgetClient(stack.rasa_url)
    try:
        os.kill(worker, signal.SIGSTOP)
        try:
            first.say(wifi.paraphrases[0])
            first.reply_containing(BUSY_NOTICE)  # its turn is in hand, and Rasa is full
            refused = second.send(wifi.paraphrases[1])
        finally:
            os.kill(worker, signal.SIGCONT)
        # Told at once, as the widget shows it: not sent, busy, and when to send it again.
        assert refused["error"] == "busy" and "send it again" in refused["message"]
        assert refused["retry_after_s"] > 0
        first.reply_containing(wifi.answer.strip())
        # Sent again once the turn in hand is over (as the customer would), it is answered.
        wait_for(lambda: second.send(wifi.paraphrases[1]) is None, "Rasa to take it this time")
        second.reply_containing(wifi.answer.strip())
    finally:
        first.close()
        second.close()


def test_a_rest_customer_who_hangs_up_mid_turn_is_still_heard(supervised: Stack, token: str):
    """Sanic cancels a request's handler when its client disconnects, mid-turn or not."""
    stack = supervised
    worker = serving_process(stack.env["ACTION_SERVER_PORT"])
    sender = f"hangs-up-{uuid.uuid4().hex[:8]}"
    question = faq("refund_timeline").paraphrases[0]
    # With the action server hung, the turn is surely in progress when the customer gives up.
    os.kill(worker, signal.SIGSTOP)
    try:
        with pytest.raises(requests.Timeout):
            requests.post(
                f"{stack.rasa_url}/webhooks/rest/webhook",
                json={"sender": sender, "message": question},
                timeout=1,
            )
        # The turn goes on: the action call times out and the team gets the question.
        queued = wait_until_queued(stack, token, f"{REST_SENDERS}{sender}")
        assert queued["reason"] == "bot_failure"
        detail = agent_api(stack, token, "GET", f"/api/conversations/{queued['id']}")
        assert question in [turn["text"] for turn in detail["transcript"]]
    finally:
        with suppress(ProcessLookupError):
            os.kill(worker, signal.SIGCONT)


def test_when_rasa_dies_mid_handoff_it_comes_back_and_the_conversation_goes_on(
    supervised: Stack, token: str
):
    stack = supervised
    customer = WidgetClient(stack.rasa_url)
    conversation = claimed_by_an_agent(stack, token, customer)
    agent_api(stack, token, "POST", f"{conversation}/messages", json={"text": "Hi, I'm Alice."})
    customer.reply_containing("Hi, I'm Alice.")

    rasa = serving_process(stack.env["RASA_PORT"])
    os.kill(rasa, signal.SIGKILL)
    customer.close()
    restarted(stack, stack.env["RASA_PORT"], rasa)

    # The widget reconnects to its session; what the customer writes reaches Alice only.
    again = WidgetClient(stack.rasa_url, session_token=customer.session_token)
    try:
        again.say("are you still there? my cabin is 214")

        def reached_alice() -> bool:
            transcript = agent_api(stack, token, "GET", conversation)["transcript"]
            return any(
                turn["role"] == "customer" and "cabin is 214" in turn["text"] for turn in transcript
            )

        wait_for(reached_alice, "the customer's message to reach the agent")
        assert again.drain(QUIET_PERIOD_S) == []

        # And Alice's next words reach the customer.
        agent_api(
            stack, token, "POST", f"{conversation}/messages", json={"text": "Yes, still here."}
        )
        again.reply_containing("Yes, still here.")
    finally:
        again.close()
