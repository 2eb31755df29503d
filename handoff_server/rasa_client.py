"""Push events into a customer's conversation through Rasa's HTTP API."""

from __future__ import annotations

from typing import Any, Protocol
from urllib.parse import quote

import requests

from lumen.vocabulary import PUSH_ID


class RasaUnavailable(Exception):
    """Rasa did not accept a push; it stays in the outbox and is tried again."""


class RasaBusy(RasaUnavailable):
    """Rasa did not take the connection or answer in time: busy, not down (which refuses).

    `bot.pushes` finishes a push's turn though its caller hung up, so a push Rasa took most
    likely reached the customer; sent again, it is skipped if so.
    """


class IntentTrigger(Protocol):
    """Anything that can trigger an intent in a Rasa conversation (RasaClient, test fakes)."""

    def trigger_intent(
        self, sender_id: str, intent: str, entities: dict[str, Any], push_id: str
    ) -> None:
        """Trigger `intent` with `entities` once per `push_id`, or raise RasaUnavailable."""


class RasaClient:
    """Call Rasa's trigger_intent endpoint so the bot relays a message on the customer's channel."""

    def __init__(
        self,
        base_url: str,
        token: str = "",
        *,
        timeout: tuple[float, float] = (2.0, 5.0),
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.session = session or requests.Session()

    def trigger_intent(
        self, sender_id: str, intent: str, entities: dict[str, Any], push_id: str
    ) -> None:
        """Trigger `intent` with `entities` once per `push_id`, or raise RasaUnavailable.

        The push id travels as an entity, so Rasa's tracker records it with the intent and
        `bot.pushes` can skip a push it has delivered already.
        """
        params = {"output_channel": "latest"}
        if self.token:
            params["token"] = self.token
        url = f"{self.base_url}/conversations/{quote(sender_id, safe='')}/trigger_intent"
        try:
            response = self.session.post(
                url,
                params=params,
                json={"name": intent, "entities": {**entities, PUSH_ID: push_id}},
                timeout=self.timeout,
            )
        except requests.Timeout as error:  # connecting (a full backlog) or reading
            raise RasaBusy(self._redact(f"{intent} to {sender_id}: {error}")) from None
        except requests.RequestException as error:
            # `from None`: the original exception quotes the token as well.
            raise RasaUnavailable(self._redact(f"{intent} to {sender_id}: {error}")) from None
        if not response.ok:
            raise RasaUnavailable(
                f"{intent} to {sender_id}: HTTP {response.status_code} {response.text[:200]}"
            )

    def _redact(self, message: str) -> str:
        """Remove the API token, which requests' errors quote as part of the URL."""
        # These messages go to the log and to the outbox's last_error column.
        return message.replace(self.token, "<token>") if self.token else message
