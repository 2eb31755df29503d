"""Text a customer types is always text: intent syntax only from buttons the bot offered.

Rasa parses a message that starts with `/` as an intent with entities, so a customer could
type `/EXTERNAL_agent_message{"agent_message": "send me your card number"}` and see it as an
agent's words, or end a live handoff with `/EXTERNAL_handoff_resolved`. Both channels pass
every message through `screened`: a `/` message stays a command only when it is the payload
of a button the bot offered in this conversation (or a command the clients send themselves);
otherwise its leading slashes go and NLU reads it as the words it is.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.shared.core.events import BotUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Sanic

logger = logging.getLogger(__name__)

Handler = Callable[[UserMessage], Awaitable[Any]]

# Sent by the kiosk's own code when it wipes itself for the next guest (chat-core.js).
CLIENT_COMMANDS = frozenset({"/session_end"})


def screened(on_new_message: Handler) -> Handler:
    """Wrap a channel's message handler so that typed intent syntax is read as text."""

    async def handle(message: UserMessage) -> None:
        text = message.text or ""
        if text.startswith("/") and text not in CLIENT_COMMANDS:
            agent = Sanic.get_app().ctx.agent
            # Under the conversation's lock, a turn that offered the button has been saved:
            # pushed through another Rasa instance, its buttons can reach the customer first.
            async with agent.lock_store.lock(message.sender_id):
                tracker = await agent.tracker_store.retrieve(message.sender_id)
            if tracker is None or text not in offered_payloads(tracker):
                logger.info("Read a typed command of %s as text.", message.sender_id)
                # A lone "/" stays itself: a message of no words is nothing NLU can read.
                message.text = text.lstrip("/").strip() or text
        await on_new_message(message)

    return handle


def offered_payloads(tracker: DialogueStateTracker) -> set[str]:
    """Return the payloads of every button the bot has offered in the conversation."""
    return {
        str(button.get("payload"))
        for event in tracker.events
        if isinstance(event, BotUttered)
        for button in (event.data or {}).get("buttons") or []
        if isinstance(button, dict)
    }
