"""Refuse a customer's message at once when Rasa has more turns in hand than it can answer.

Every turn of a Rasa process shares its one event loop. Beyond capacity the turns in hand
pile up and each takes longer: replies come after the customer has given up, the busy
notice comes as late as everything else on that loop, and engine.io drops sockets whose
pings go unanswered. Past `max_turns_in_flight` conversations with a turn in hand in this
process, a message of another conversation is not taken: it is refused as the chat limits
refuse one (REST's 429 with Retry-After, socket.io's acknowledgement), saying the assistant
is busy. The widget shows it as not sent, with that reason and a Send again button; a
message that is taken is answered in time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from rasa.core.channels.channel import UserMessage

from bot.chat_limits import Refusal

BUSY = (
    "I'm answering a lot of people right now and couldn't take that message. "
    "Please send it again in a few seconds."
)
RETRY_AFTER_S = 5


class TurnsInFlight:
    """Count the conversations with a turn in hand in this process; refuse new ones past the
    limit (a conversation's own turns queue behind each other for its lock, so they count once)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.turns: Counter[str] = Counter()

    def refusal(self, sender_id: str) -> Refusal | None:
        """Say why a new message of `sender_id` is refused now, or None if it can be taken."""
        if sender_id in self.turns or len(self.turns) < self.limit:
            return None
        return Refusal(retry_after_s=RETRY_AFTER_S, message=BUSY, error="busy")

    def counted(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Callable[[UserMessage], Coroutine[Any, Any, None]]:
        """Wrap a channel's message handler so that each turn counts while it runs."""

        async def handle(message: UserMessage) -> None:
            self.turns[message.sender_id] += 1
            try:
                await on_new_message(message)
            finally:
                self.turns[message.sender_id] -= 1
                if not self.turns[message.sender_id]:
                    del self.turns[message.sender_id]

        return handle
