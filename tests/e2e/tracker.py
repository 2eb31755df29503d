"""What Rasa holds for a conversation, read through its HTTP API as the handoff server does."""

from __future__ import annotations

from typing import Any

import requests

from scripts.stack import Stack


def rasa_user_events(stack: Stack, session_id: str) -> list[dict[str, Any]]:
    """Return the customer messages Rasa's tracker holds for a session."""
    response = requests.get(
        f"{stack.rasa_url}/conversations/{session_id}/tracker",
        params={"token": stack.env["RASA_API_TOKEN"]},
        timeout=10,
    )
    response.raise_for_status()
    return [event for event in response.json()["events"] if event["event"] == "user"]


def customer_texts(stack: Stack, session_id: str) -> list[str]:
    """Return what the customer of a session said, in order."""
    return [event["text"] for event in rasa_user_events(stack, session_id)]
