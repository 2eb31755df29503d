"""Tell a customer whose turn runs long that the bot is busy, rather than leave them in silence.

Beyond capacity a turn waits for Rasa's event loop and for the action server; a customer who
hears nothing for seconds writes again or leaves. After `busy_notice_after_s` without a reply
the bot says it has the message and is busy (`utter_busy`), then answers as usual. Never
while a person holds the conversation (the bot does not talk over an agent), nor over REST,
whose client gets every reply of a turn at once.
"""

from __future__ import annotations

import asyncio
import logging

from rasa.core.agent import Agent
from rasa.core.channels.channel import CollectingOutputChannel, OutputChannel, UserMessage
from sanic import Sanic

from bot.failsafe import Handler, WatchedOutput

logger = logging.getLogger(__name__)

BUSY_RESPONSE = "utter_busy"


def patient(on_new_message: Handler, notice_after_s: float) -> Handler:
    """Wrap a channel's message handler so that a slow turn first tells the customer so."""

    async def handle(message: UserMessage) -> None:
        if isinstance(message.output_channel, CollectingOutputChannel):
            # REST answers once the turn is over: a notice could only come with the answer.
            await on_new_message(message)
            return
        message.output_channel = watched = WatchedOutput(message.output_channel)
        turn = asyncio.ensure_future(on_new_message(message))
        done, _ = await asyncio.wait({turn}, timeout=notice_after_s)
        if not done and not watched.used:
            await tell_busy(Sanic.get_app().ctx.agent, message.sender_id, watched.channel)
        await turn

    return handle


async def tell_busy(agent: Agent, sender_id: str, channel: OutputChannel) -> None:
    """Say `utter_busy` to the customer, unless a person holds their conversation."""
    tracker = await agent.tracker_store.retrieve(sender_id)
    if tracker is not None and tracker.get_slot("handoff_active"):
        return
    logger.warning("A turn of %s runs long: telling the customer the bot is busy.", sender_id)
    (response, *_) = agent.domain.responses[BUSY_RESPONSE]
    await channel.send_text_message(sender_id, response["text"])
