"""The handoff server's service API as its clients (action server, Rasa failsafe) call it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

HANDOFFS = "/api/handoffs"
UNANSWERED_QUESTIONS = "/api/unanswered-questions"
FAQ_PARAPHRASES = "/api/faq-paraphrases"
FAQ_DECISIONS = "/api/faq-decisions"


def service_endpoint(environ: Mapping[str, str] = os.environ) -> tuple[str, str]:
    """Return the handoff server's URL and the service token its clients send.

    From HANDOFF_URL and HANDOFF_SERVICE_TOKEN; the action server and the Rasa process alike.
    """
    url = environ.get("HANDOFF_URL", "http://127.0.0.1:8000").rstrip("/")
    return url, environ.get("HANDOFF_SERVICE_TOKEN", "")


def customer_messages(handoff_id: int) -> str:
    """Return the path that passes a customer's message to the agent of a handoff."""
    return f"/api/conversations/{handoff_id}/customer-messages"


def offline_message(handoff_id: int) -> str:
    """Return the path that turns a handoff nobody could take into a message left."""
    return f"/api/conversations/{handoff_id}/offline-message"


def abandon(handoff_id: int) -> str:
    """Return the path that records that the customer left the queue."""
    return f"/api/conversations/{handoff_id}/abandon"


def rating(handoff_id: int) -> str:
    """Return the path that stores the customer's rating of a resolved handoff."""
    return f"/api/conversations/{handoff_id}/rating"


def handed_off_slots(handoff_id: int) -> dict[str, Any]:
    """Return the slot values that put a person in charge of the conversation."""
    return {
        "handoff_active": True,
        "handoff_id": handoff_id,
        "handoff_reason": None,
        "handoff_offered": False,
    }
