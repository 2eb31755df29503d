"""A card number a customer types is masked before anything keeps it, on every channel.

The customer's own chat shows what they typed (the widget echoes it locally); the bot, Rasa's
tracker, the agent's console and the processes' logs see only the last four digits. Email
addresses stay visible to the agent, who needs them to reach the customer.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest
import requests

from lumen.vocabulary import REST_SENDERS
from scripts.stack import Stack
from tests.e2e.clients import WidgetClient, agent_api, wait_for, wait_until_queued

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CARD = "4111 1111 1111 1111"
LATER_CARD = "5500-0000-0000-0004"
TIMEOUT_S = 30


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def holds(text: str, card: str) -> bool:
    """Tell whether `text` holds the card number, however it is spaced."""
    return re.search(r"[ -]?".join(digits(card)), text) is not None


def assert_kept_masked(kept: dict[str, Any], *cards: str) -> None:
    """Assert no card number is in `kept`, and each one's last four digits are."""
    dump = json.dumps(kept)
    for card in cards:
        assert not holds(dump, card)
        assert f"**** **** **** {digits(card)[-4:]}" in dump


def tracker_of(stack: Stack, sender: str) -> dict[str, Any]:
    """Return Rasa's tracker of a conversation, as its HTTP API keeps it."""
    response = requests.get(
        f"{stack.rasa_url}/conversations/{sender}/tracker",
        params={"token": stack.env["RASA_API_TOKEN"]},
        timeout=TIMEOUT_S,
    )
    response.raise_for_status()
    return dict(response.json())


def customer_texts(stack: Stack, token: str, conversation_id: int) -> list[str]:
    detail = agent_api(stack, token, "GET", f"/api/conversations/{conversation_id}")
    return [turn["text"] for turn in detail["transcript"] if turn["role"] == "customer"]


def test_a_card_typed_in_the_widget_reaches_no_store_and_no_log_unmasked(
    stack: Stack, agent_token: str
):
    widget = WidgetClient(stack.rasa_url)
    try:
        widget.say(f"I was charged twice on my card {CARD}, my email is jo.berg@example.com")
        widget.next_reply()
        widget.say("I want to talk to a real person please")
        widget.reply_containing("queue")
        queued = wait_until_queued(stack, agent_token, widget.session_id)
        # While waiting, the customer's messages go to the team as they are typed.
        widget.say(f"the second charge was on {LATER_CARD}")
        wait_for(
            lambda: len(customer_texts(stack, agent_token, queued["id"])) >= 3,
            "the message to reach the agent",
        )
        conversation = agent_api(stack, agent_token, "GET", f"/api/conversations/{queued['id']}")
        tracker = tracker_of(stack, widget.session_id)
    finally:
        widget.close()

    assert_kept_masked(conversation, CARD, LATER_CARD)
    assert_kept_masked(tracker, CARD, LATER_CARD)
    assert not holds(stack.log(), CARD) and not holds(stack.log(), LATER_CARD)
    # The agent still has what they need to reach the customer.
    assert "jo.berg@example.com" in customer_texts(stack, agent_token, queued["id"])[0]


def test_a_card_sent_over_rest_reaches_neither_the_tracker_nor_the_agent(
    stack: Stack, agent_token: str
):
    sender = uuid.uuid4().hex
    for text in (f"please refund {CARD}", "I want to talk to a real person please"):
        response = requests.post(
            f"{stack.rasa_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text},
            timeout=TIMEOUT_S,
        )
        response.raise_for_status()
    conversation_id = f"{REST_SENDERS}{sender}"
    queued = wait_until_queued(stack, agent_token, conversation_id)

    assert_kept_masked(
        agent_api(stack, agent_token, "GET", f"/api/conversations/{queued['id']}"), CARD
    )
    assert_kept_masked(tracker_of(stack, conversation_id), CARD)
