"""The action server's client of the handoff server's service API."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import requests

from actions.settings import ActionSettings
from lumen import handoff_api

logger = logging.getLogger(__name__)

# What is left of Rasa's wait for the action after the last try: the action's own answer.
ANSWER_MARGIN_S = 1.0
# The wait when a busy answer does not say how long (Retry-After in seconds, as sent).
DEFAULT_RETRY_AFTER_S = 1.0


class HandoffUnavailable(Exception):
    """The handoff server could not be reached or refused the request."""


class HandoffConflict(HandoffUnavailable):
    """The conversation has moved on (409): for example an agent claimed it meanwhile."""


class HandoffClient:
    """Send context packets and customer messages to the handoff server; read what was taught."""

    def __init__(
        self,
        settings: ActionSettings | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings or ActionSettings.from_env()
        self.clock, self.sleep = clock, sleep
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {self.settings.handoff_service_token}"

    def _request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """Send the request; send it again after Retry-After while the database is busy (503).

        A 503 stored nothing, so the same request is safe to repeat; the tries end in time
        for the action to answer Rasa before Rasa gives up on it.
        """
        url = f"{self.settings.handoff_url}{path}"
        deadline = self.clock() + self.settings.action_timeout_s - ANSWER_MARGIN_S
        while True:
            timeout_s = min(self.settings.request_timeout_s, max(deadline - self.clock(), 0.1))
            try:
                response = self.session.request(method, url, timeout=timeout_s, **kwargs)
            except requests.RequestException as error:
                raise HandoffUnavailable(f"{method} {url} failed: {error}") from error
            if response.status_code != 503:
                break
            wait_s = retry_after_s(response)
            if self.clock() + wait_s >= deadline:
                break
            logger.warning("%s %s: the database is busy; again in %.0f s", method, url, wait_s)
            self.sleep(wait_s)
        if response.status_code == 409:
            raise HandoffConflict(f"{method} {url} answered 409: {response.text}")
        if response.status_code >= 400:
            raise HandoffUnavailable(
                f"{method} {url} answered {response.status_code}: {response.text}"
            )
        result: dict[str, Any] = response.json()
        return result

    def _post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        return self._request("POST", path, json=payload)

    def create_handoff(self, packet: dict[str, Any]) -> dict[str, Any]:
        """Queue the conversation for a person; return id, state, position and expected wait."""
        return self._post(handoff_api.HANDOFFS, packet)

    def forward_customer_message(
        self,
        handoff_id: int,
        text: str,
        idempotency_key: str | None,
        faq_hits: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Pass a customer's message, with the FAQs found for it, to the agent who owns it."""
        return self._post(
            handoff_api.customer_messages(handoff_id),
            {"text": text, "idempotency_key": idempotency_key, "faq_hits": faq_hits},
        )

    def leave_offline_message(self, handoff_id: int, contact: str, text: str) -> dict[str, Any]:
        """Turn a conversation nobody could take into a ticket to answer by `contact`."""
        return self._post(
            handoff_api.offline_message(handoff_id), {"contact": contact, "text": text}
        )

    def record_unanswered(self, question: dict[str, Any]) -> dict[str, Any]:
        """Record a question no FAQ answered, for the FAQ gaps report."""
        return self._post(handoff_api.UNANSWERED_QUESTIONS, question)

    def record_decision(self, decision: dict[str, Any]) -> dict[str, Any]:
        """Record what the FAQ engine decided for a question (no text), for reports."""
        return self._post(handoff_api.FAQ_DECISIONS, decision)

    def taught_paraphrases(self, after: int, limit: int) -> list[dict[str, Any]]:
        """Return up to `limit` taught paraphrases with ids above `after`, oldest first."""
        found = self._request(
            "GET", handoff_api.FAQ_PARAPHRASES, params={"after": after, "limit": limit}
        )
        return list(found["paraphrases"])

    def abandon(self, handoff_id: int) -> dict[str, Any]:
        """Record that the customer left the conversation (gone from the queue)."""
        return self._post(handoff_api.abandon(handoff_id), {})

    def rate(self, handoff_id: int, rating: int) -> dict[str, Any]:
        """Store the customer's rating of a resolved conversation."""
        return self._post(handoff_api.rating(handoff_id), {"rating": rating})


def retry_after_s(response: requests.Response) -> float:
    """Return the wait a busy answer asks for (the handoff server sends whole seconds)."""
    try:
        return float(response.headers["Retry-After"])
    except (KeyError, ValueError):
        return DEFAULT_RETRY_AFTER_S
