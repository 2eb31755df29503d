"""Never leave a customer in silence because the action server is down, or late.

Rasa 3.6 logs a custom action it cannot reach (refused, or no answer within the
endpoint's timeout, see bot/action_timeout.py) and carries on without the action's
events, so the turn ends without a word. Both channels pass every message through
`guarded`: after a turn that sent nothing back because an action call failed (the endpoint
remembers whose), if the action server fails its health check (refused, an error, or no
answer within HEALTH_CHECK_TIMEOUT_S: a hung server), the customer is told, and the
conversation goes to a person through the handoff server with a minimal context packet;
when a person has it already, the message goes straight to them (under the message's id,
so a message the action did forward is not shown twice).

When the action server is healthy but the turn's call failed (too late for the endpoint's
timeout on a saturated machine, or an error), a message for a person still goes straight to
them, and a question gets an honest "ask me again" (`utter_ask_again`) instead of silence.
"""

from __future__ import annotations

import asyncio
import logging
import urllib.request
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urljoin

import aiohttp
from rasa.core.agent import Agent
from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.shared.core.events import BotUttered, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Sanic

from bot.action_timeout import TimedEndpointConfig
from bot.settings import BotSettings
from lumen import context_packet as packets
from lumen import handoff_api
from lumen.vocabulary import HandoffReason

logger = logging.getLogger(__name__)

Handler = Callable[[UserMessage], Awaitable[Any]]

# Turns that say nothing on purpose: the kiosk wiping itself for the next guest.
QUIET_INTENTS = {"session_end"}
# A healthy action server answers its health route at once; one that does not within this
# time is hung (a dead or stopped worker leaves connections waiting in the port's backlog).
HEALTH_CHECK_TIMEOUT_S = 2.0
# Said when the action server is up but this turn's call failed: the answer never came.
ASK_AGAIN = "utter_ask_again"


class WatchedOutput(OutputChannel):
    """An output channel that passes everything on and remembers whether anything went out."""

    def __init__(self, channel: OutputChannel) -> None:
        self.channel = channel
        self.used = False

    def name(self) -> str:  # type: ignore[override]
        return self.channel.name()

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        self.used = True
        await self.channel.send_response(recipient_id, message)

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self.channel, attribute)


def guarded(on_new_message: Handler, settings: BotSettings) -> Handler:
    """Wrap a channel's message handler so that a dead action server never means silence."""

    async def handle(message: UserMessage) -> None:
        agent = Sanic.get_app().ctx.agent
        failed_call(agent, message.sender_id)  # forget a failure no rescue needed
        message.output_channel = watched = WatchedOutput(message.output_channel)
        await on_new_message(message)
        if not watched.used:
            await rescue_failed_turn(agent, message, settings)

    return handle


def failed_call(agent: Agent, sender_id: str) -> bool:
    """Tell whether an action call of `sender_id` failed since the last asking."""
    endpoint = agent.action_endpoint
    return isinstance(endpoint, TimedEndpointConfig) and endpoint.forget_failure(sender_id)


async def rescue_failed_turn(agent: Agent, message: UserMessage, settings: BotSettings) -> None:
    """After a turn whose action call failed, hand off (or forward) if the action server is down.

    If it is up (the call came too late or met an error), forward a message meant for a
    person, and ask the customer to write a question again.
    """
    if agent.action_endpoint is None or not failed_call(agent, message.sender_id):
        return  # a turn silent on purpose: a message forwarded to a person
    down = not await is_up(agent.action_endpoint.url)
    async with agent.lock_store.lock(message.sender_id):
        tracker = await agent.tracker_store.get_or_create_tracker(message.sender_id)
        if expects_no_reply(tracker, message.message_id):
            return
        if down or tracker.get_slot("handoff_active"):
            logger.error(
                "The action server at %s %s: %s goes to the handoff server.",
                agent.action_endpoint.url,
                "is down" if down else "failed a call",
                message.sender_id,
            )
            response, events = await rescue_through_handoff_server(tracker, message, settings)
        else:
            logger.warning(
                "An action call of %s failed: asking them to write again.", tracker.sender_id
            )
            response, events = ASK_AGAIN, []
        if response is not None:
            said = await agent.nlg.generate(response, tracker, message.output_channel.name())
            events.insert(0, BotUttered((said or {}).get("text"), {"utter_action": response}))
        tracker.update_with_events(events, agent.domain)
        await agent.tracker_store.save(tracker)
    await agent.processor.execute_side_effects(events, tracker, message.output_channel)


def expects_no_reply(tracker: DialogueStateTracker, message_id: str | None) -> bool:
    """Tell whether the customer's message `message_id` is one the bot never answers."""
    sent = (
        event
        for event in reversed(tracker.events)
        if isinstance(event, UserUttered) and event.message_id == message_id
    )
    message = next(sent, None)
    return message is None or message.intent_name in QUIET_INTENTS


async def is_up(webhook_url: str) -> bool:
    """Ask the action server's health route whether it is there and answering.

    From a thread: a busy Rasa's own event loop runs late, and on it a healthy action
    server's answer came "too late" (under load the failsafe handed off hundreds of
    customers whose action server was fine). The thread times the action server alone.
    """
    url = urljoin(webhook_url, "/health")
    return await asyncio.get_running_loop().run_in_executor(None, answers_health, url)


def answers_health(url: str) -> bool:
    """Tell whether `url` answers 200 within HEALTH_CHECK_TIMEOUT_S (blocking)."""
    try:
        with urllib.request.urlopen(url, timeout=HEALTH_CHECK_TIMEOUT_S) as response:
            return bool(response.status == 200)
    except (OSError, ValueError):  # refused, timed out, HTTP errors (URLError is an OSError)
        return False


async def rescue_through_handoff_server(
    tracker: DialogueStateTracker, message: UserMessage, settings: BotSettings
) -> tuple[str | None, list[Event]]:
    """Run `rescue` with a session of its own: most turns never need one."""
    timeout = aiohttp.ClientTimeout(total=settings.request_timeout_s)
    headers = {"Authorization": f"Bearer {settings.handoff_service_token}"}
    async with aiohttp.ClientSession(timeout=timeout, headers=headers) as http:
        return await rescue(http, tracker, message, settings)


async def rescue(
    http: aiohttp.ClientSession,
    tracker: DialogueStateTracker,
    message: UserMessage,
    settings: BotSettings,
) -> tuple[str | None, list[Event]]:
    """Pass the turn to a person; return the response to send, if any, and the slot events."""
    handoff_id = tracker.get_slot("handoff_id")
    try:
        if tracker.get_slot("handoff_active") and handoff_id is not None:
            await post(
                http,
                settings.handoff_url + handoff_api.customer_messages(int(handoff_id)),
                {"text": message.text, "idempotency_key": message.message_id},
            )
            return None, []
        handoff = await post(
            http, settings.handoff_url + handoff_api.HANDOFFS, context_packet(tracker)
        )
    except (aiohttp.ClientError, asyncio.TimeoutError):
        logger.exception(
            "The handoff server failed too; %s was told to try later.", tracker.sender_id
        )
        return "utter_handoff_unavailable", []
    on_duty = handoff.get("agents_online", 0) > 0
    return "utter_bot_failure_handoff" if on_duty else "utter_bot_failure_leave_message", [
        SlotSet(name, value) for name, value in handoff_api.handed_off_slots(handoff["id"]).items()
    ]


async def post(http: aiohttp.ClientSession, url: str, payload: dict[str, Any]) -> dict[str, Any]:
    """POST JSON to the handoff server; raise aiohttp.ClientError on any failure."""
    async with http.post(url, json=payload, raise_for_status=True) as response:
        result: dict[str, Any] = await response.json()
        return result


def context_packet(tracker: DialogueStateTracker) -> dict[str, Any]:
    """Return what the Rasa process knows without the action server: who, where, what was said."""
    packet = packets.context_packet(
        tracker.sender_id,
        [event.as_dict() for event in tracker.events],
        tracker.current_slot_values(),
        HandoffReason.BOT_FAILURE,
    )
    said = packet["transcript"]
    last = said[-1]["text"] if said else ""
    packet["summary"] = (
        f'The assistant failed (its action server is down); last: "{packets.quote(last)}"'
    )
    return packet
