"""Limit the messages customers send, per session and per client address (the `limits` library).

Rasa runs NLU and a turn for every message, so a client sending as fast as it can takes
Rasa from everyone else. Over CHAT_LIMIT_PER_SESSION a conversation's message is refused
before NLU, and so is any message from an address over CHAT_LIMIT_PER_ADDRESS, which stops a
client opening a new session for every message. One address carries many customers (a
ship's guests behind one router, the load tool on loopback), so that limit is set above
what the whole expected crowd sends. A refused message is not counted, and a refused
customer is told to wait until the window is clear (Retry-After).

Fixed windows, one counter per key and minute: the moving window's memory storage keeps
every message and a timer thread re-checks each of them every 10 ms, under a lock per
message. With the load tool's crowd behind one address that thread took 7.5% of the Rasa
process's time, on the event loop's GIL. A burst across a window's edge can reach twice a
limit, which is still a flood guard.

Only customers' messages count: the handoff server's pushes come through Rasa's HTTP API
(`bot.pushes`), never through a channel. The counts live in RATE_LIMIT_STORAGE_URI, the
setting the handoff server's sign-in limits use: memory:// keeps them in this process,
redis://HOST:PORT shares them between Rasa processes (redis is installed with Rasa).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import limits
from limits.errors import ConfigurationError
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from bot.settings import BotSettings

REFUSAL = "You're sending messages faster than we can read them; wait a moment and send it again."
# Keys in a shared storage stay apart from the handoff server's sign-in counts.
KEY_PREFIX = "chat"


@dataclass(frozen=True)
class Refusal:
    """Why a message was not taken, as the customer is told (REST's 429 body, socket.io's ack)."""

    retry_after_s: int
    message: str = REFUSAL
    error: str = "too_many_messages"

    def as_json(self) -> dict[str, Any]:
        return {"error": self.error, "message": self.message, "retry_after_s": self.retry_after_s}


def readable_limit(name: str, value: str) -> limits.RateLimitItem:
    """Parse a limit such as '30 per minute'; a ValueError names the setting otherwise."""
    try:
        return limits.parse(value)
    except ValueError as error:
        raise ValueError(f"{name}: cannot read {value!r} (e.g. '30 per minute')") from error


class ChatLimits:
    """Count customers' messages per session and per address; refuse those over a limit."""

    def __init__(
        self,
        per_session: str,
        per_address: str,
        storage_uri: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.per_session = readable_limit("CHAT_LIMIT_PER_SESSION", per_session)
        self.per_address = readable_limit("CHAT_LIMIT_PER_ADDRESS", per_address)
        try:
            # The limiter holds its storage weakly: this object keeps it alive.
            self.storage = storage_from_string(storage_uri)
        except ConfigurationError as error:
            raise ValueError(f"RATE_LIMIT_STORAGE_URI: {error}") from error
        self.limiter = FixedWindowRateLimiter(self.storage)
        self.clock = clock

    @classmethod
    def from_settings(
        cls, settings: BotSettings, clock: Callable[[], float] = time.time
    ) -> ChatLimits:
        return cls(
            settings.chat_limit_per_session,
            settings.chat_limit_per_address,
            settings.rate_limit_storage_uri,
            clock,
        )

    def refusal(self, session_id: str, address: str) -> Refusal | None:
        """Count one message of `session_id` from `address`, or say why it is refused."""
        counts = [
            (self.per_session, KEY_PREFIX, "session", session_id),
            (self.per_address, KEY_PREFIX, "address", address),
        ]
        full = [(limit, keys) for limit, *keys in counts if not self.limiter.test(limit, *keys)]
        if full:
            return Refusal(retry_after_s=max(self._wait_s(limit, keys) for limit, keys in full))
        for limit, *keys in counts:
            self.limiter.hit(limit, *keys)
        return None

    def _wait_s(self, limit: limits.RateLimitItem, keys: list[str]) -> int:
        """Return the whole seconds until the window ends and its count starts again.

        limits 2.4 (the release beside Rasa 3.6's pins) reports the window's end in whole
        seconds: one second more is always past it.
        """
        clear_at, _ = self.limiter.get_window_stats(limit, *keys)
        return max(0, math.ceil(clear_at - self.clock())) + 1
