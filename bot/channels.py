"""The project's channels: Rasa's socket.io and REST, bounded, screened and guarded.

Every message goes through `bot.privacy.masked` (card numbers masked first),
`bot.screening.screened` (typed intent syntax is text) and `bot.failsafe.guarded`, so a
turn the action server could not serve still tells the customer and reaches a person;
calls to the action server give up after the timeout of endpoints.yml
(`bot.action_timeout`). Text over MAX_TEXT_CHARS never reaches NLU: Rasa runs NLU on any
length, and one message of 120,000 characters kept it busy for minutes. Nor does a message
over the chat limits (`bot.chat_limits`), or one that comes while this process has more turns
in hand than it can answer in time (`bot.overload`): REST answers 429 with Retry-After,
socket.io acknowledges the message with the refusal, so the widget shows it as not sent.

The socket.io channel fixes what Rasa 3.6's does under python-socketio 5.x:

- `session_request` did not await `enter_room`, so with `session_persistence: true`
  the socket never joined its session's room and every bot message went nowhere.
- `send_custom_json` passed the payload to `emit` as keyword arguments (TypeError).
- A conversation id was the only credential: the client named its session, and each
  message named it again, so any socket could write into and listen to any
  conversation. Now the server issues sessions and binds each to its socket.
- Its WebSocket transport accepted any `Origin`; now only WIDGET_ORIGINS.
- What the bot or an agent said while a socket was down (a network drop, a tunnel, a
  sleeping phone) went to an empty room and was lost. Every message now carries its
  BotUttered event's `timestamp`; a page that resumes its session names the last one it
  showed (`since`) and gets what came after, once and in order, before anything new.

REST senders live in a namespace of their own (`rest-<sender>`): a REST client can never
name a widget customer's conversation, and the REST API stays open to server-side
integrations, which name their own users.

The channel keeps Rasa's name, `socketio`, so `trigger_intent?output_channel=latest`
finds it and agent messages reach the customer's own socket.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import socketio
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from rasa.shared.core.events import BotUttered
from sanic import Blueprint, Sanic
from sanic.exceptions import InvalidUsage, PayloadTooLarge
from sanic.request import Request
from sanic.response import HTTPResponse, json

from bot.busy import patient
from bot.chat_limits import ChatLimits, Refusal
from bot.failsafe import guarded
from bot.overload import TurnsInFlight
from bot.privacy import masked
from bot.rasa_server import attach_to
from bot.screening import screened
from bot.session_tokens import SessionTokens
from bot.settings import bot_settings
from bot.socketio_scale import caught_up, listening, scale_out
from lumen.vocabulary import MAX_SENDER_ID_CHARS, MAX_TEXT_CHARS, REST_SENDERS

logger = logging.getLogger(__name__)

MAX_REST_SENDER_CHARS = MAX_SENDER_ID_CHARS - len(REST_SENDERS)
# At most this many missed messages are sent again on resuming (the widget keeps 200).
MAX_REPLAYED = 200


@functools.cache
def chat_limits() -> ChatLimits:
    """Return the chat limits every channel of this process counts in (read at start)."""
    return ChatLimits.from_settings(bot_settings())


@functools.cache
def turns_in_flight() -> TurnsInFlight:
    """Return the count of this process's turns in hand, which every channel shares."""
    return TurnsInFlight(bot_settings().max_turns_in_flight)


def refusal(limits: ChatLimits, sender_id: str, address: str) -> Refusal | None:
    """Say why a customer's message is not taken now: Rasa is full, or the sender over a
    limit (a refused message is not counted against the limits)."""
    return turns_in_flight().refusal(sender_id) or limits.refusal(sender_id, address)


def client_address(request: Request) -> str:
    """Return the client's address: as a trusted proxy forwarded it, or the peer."""
    return str(request.remote_addr or request.ip)


def handler_of(on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Callable[..., Any]:
    """Mask card numbers first, then screen, guard and time a handler that ends every turn."""
    settings = bot_settings()
    guarded_turn = guarded(screened(on_new_message), settings)
    counted = turns_in_flight().counted(patient(guarded_turn, settings.busy_notice_after_s))
    return finished(masked(counted))


def finished(on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Callable[..., Any]:
    """Run each turn to its end, even when the request that brought it is cancelled.

    Sanic cancels a request's handler when its client disconnects: a REST customer who gave
    up waiting cut the turn in two, and the message, never saved in the tracker, reached
    neither the bot's answer nor the failsafe nor a person.
    """

    async def handle(message: UserMessage) -> None:
        await asyncio.shield(on_new_message(message))

    return handle


class FixedSocketIOOutput(SocketIOOutput):
    """Socket.io output that stamps each message and sends custom payloads as `{"custom": ...}`."""

    timestamp: float | None = None

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """Send one bot message, each part stamped with its event's time (the page's cursor)."""
        self.timestamp = message.get("timestamp")
        await super().send_response(recipient_id, message)

    async def _send_message(self, socket_id: str, response: Any) -> None:
        if self.timestamp is not None:
            response = {**response, "timestamp": self.timestamp}
        await super()._send_message(socket_id, response)

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        """Send a custom payload to the recipient's room."""
        await self._send_message(recipient_id, {"custom": json_message})


class FixedSocketIOInput(SocketIOInput):
    """Socket.io input whose sessions the server issues and binds to the socket that opened them.

    A conversation id is not a credential. `session_request` resumes a session only for
    the token the server signed for it (`bot.session_tokens`) and otherwise opens a new
    one, whatever id the client names; the session is kept in the socket's own
    socket.io session, and every `user_uttered` of that socket goes to it, whatever the
    message says. Sessions are always persistent (their room outlives the socket), so
    the credentials' `session_persistence` is not read.
    """

    def get_output_channel(self) -> FixedSocketIOOutput | None:
        """Create the output channel used for messages pushed from outside (trigger_intent)."""
        if self.sio is None:
            return None
        return FixedSocketIOOutput(self.sio, self.bot_message_evt)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Build Rasa's blueprint, then replace its connect, session and message handlers."""
        on_new_message = handler_of(on_new_message)
        socketio_blueprint = super().blueprint(on_new_message)
        sio = self.sio
        assert sio is not None  # set by the parent's blueprint()
        namespace = self.namespace or "/"
        settings = bot_settings()
        # Several Rasa instances: emits through Redis, session ids routed (bot.socketio_scale).
        scale_out(sio, settings)
        tokens = SessionTokens(settings.chat_session_secret)
        limits = chat_limits()
        rasa_connect = sio.handlers[namespace]["connect"]

        async def connect(sid: str, environ: dict, auth: dict | None = None) -> bool:
            origin = environ.get("HTTP_ORIGIN")
            if not origin_allowed(origin, environ, settings.widget_origins):
                raise socketio.exceptions.ConnectionRefusedError(
                    f"{origin} is not one of the pages allowed to open the chat"
                )
            async with sio.session(sid, namespace=namespace) as session:
                session["address"] = client_address(environ["sanic.request"])
            return bool(await rasa_connect(sid, environ, auth))

        async def session_request(sid: str, data: Any = None) -> None:
            data = data if isinstance(data, dict) else {}
            resumed = tokens.session_of(data.get("session_token"))
            session_id = resumed or tokens.new_session()
            since = data.get("since")
            async with sio.session(sid, namespace=namespace) as session:
                previous = session.get("session_id")
                session["session_id"] = session_id
            if previous and previous != session_id:
                await sio.leave_room(sid, previous, namespace=namespace)
            agent = getattr(Sanic.get_app().ctx, "agent", None)
            if not resumed or not isinstance(since, int | float) or agent is None:
                await sio.enter_room(sid, session_id, namespace=namespace)
                await confirm(sid, session_id)
                return
            # Under the conversation's lock no turn runs: nothing is said between reading
            # what was missed and joining the room, so nothing is lost or shown twice.
            async with agent.lock_store.lock(session_id):
                # What another Rasa instance said before the lock was taken is here first.
                await caught_up(sio)
                tracker = await agent.tracker_store.retrieve(session_id)
                await sio.enter_room(sid, session_id, namespace=namespace)
                await confirm(sid, session_id)
                missed = [
                    event
                    for event in (tracker.events if tracker else [])
                    if isinstance(event, BotUttered) and event.timestamp > since
                ]
                output = FixedSocketIOOutput(sio, self.bot_message_evt)
                for event in missed[-MAX_REPLAYED:]:
                    await output.send_response(sid, event.message())

        async def confirm(sid: str, session_id: str) -> None:
            await sio.emit(
                "session_confirm",
                {"session_id": session_id, "session_token": tokens.token_for(session_id)},
                room=sid,
                namespace=namespace,
            )

        async def handle_message(sid: str, data: Any = None) -> dict[str, Any] | None:
            """Take a customer's message; what it returns is the client's acknowledgement."""
            session = await sio.get_session(sid, namespace=namespace)
            sender_id = session.get("session_id")
            if sender_id is None:
                await sio.emit(
                    "session_error",
                    {"error": "Send session_request and wait for session_confirm first."},
                    room=sid,
                    namespace=namespace,
                )
                return None
            refused = refusal(limits, sender_id, session["address"])
            if refused is not None:
                return refused.as_json()
            data = data if isinstance(data, dict) else {}
            output_channel = FixedSocketIOOutput(sio, self.bot_message_evt)
            text = data.get("message", "")
            if not isinstance(text, str) or len(text) > MAX_TEXT_CHARS:
                # Tell the customer rather than dropping the message silently.
                await output_channel.send_text_message(
                    sender_id,
                    f"Sorry, that message is too long for me. Please keep it under "
                    f"{MAX_TEXT_CHARS} characters.",
                )
                return None
            if not text.strip():
                # No words: nothing for NLU to read (Rasa's classifier raises on it).
                return None
            metadata = data.get(self.metadata_key) or {}
            if not isinstance(metadata, dict):
                metadata = {}
            await on_new_message(
                UserMessage(
                    text,
                    output_channel,
                    sender_id,
                    input_channel=self.name(),
                    metadata=metadata,
                )
            )
            return None

        async def listen_first(_app: Sanic, *_: Any) -> None:
            await listening(sio)

        socketio_blueprint.listener("before_server_start")(listen_first)
        sio.on("connect", connect, namespace=namespace)
        sio.on("session_request", session_request, namespace=namespace)
        sio.on(self.user_message_evt, handle_message, namespace=namespace)
        attach_to(socketio_blueprint)
        return socketio_blueprint


def origin_allowed(origin: str | None, environ: dict, widget_origins: tuple[str, ...]) -> bool:
    """Whether a socket from `origin` may open the chat, on either transport.

    Rasa's server leaves engine.io's own Origin check off (its --cors sets the CORS
    headers of HTTP polling, which only browsers enforce), so the WebSocket transport
    took any page. Allowed: the widget's pages, Rasa's own origin (engine.io's default;
    Rasa serves no pages, and Python's websocket-client sends it), and no Origin at all,
    which no browser omits: such a client is a server or a script, which could send any
    Origin anyway. The session token, not the Origin, is what guards a conversation.
    """
    own = f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', '')}"
    return not origin or origin == own or origin in widget_origins


class GuardedRestInput(RestInput):
    """Rasa's REST channel (`/webhooks/rest/webhook`), bounded, screened and guarded.

    A malformed request gets a 400 naming the field, text over the limit a 413, before NLU.
    The conversation of sender S is `rest-S` in Rasa (and in the replies' `recipient_id`).
    """

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Build Rasa's REST blueprint around the screened and guarded message handler."""
        rest_blueprint = super().blueprint(handler_of(on_new_message))
        rest_blueprint.middleware("request")(refusing_over(chat_limits()))
        attach_to(rest_blueprint)
        return rest_blueprint

    async def _extract_sender(self, req: Request) -> str:
        sender = body_of(req).get("sender")
        if not isinstance(sender, str) or not 0 < len(sender) <= MAX_REST_SENDER_CHARS:
            raise InvalidUsage(
                f"'sender' must be a string of 1 to {MAX_REST_SENDER_CHARS} characters"
            )
        return f"{REST_SENDERS}{sender}"

    def _extract_message(self, req: Request) -> str:
        text = body_of(req).get("message")
        if not isinstance(text, str) or not text.strip():
            raise InvalidUsage("'message' must be a string with some text")
        if len(text) > MAX_TEXT_CHARS:
            raise PayloadTooLarge(
                f"'message' has {len(text)} characters; please keep it under {MAX_TEXT_CHARS}"
            )
        return text

    def _extract_input_channel(self, req: Request) -> str:
        # Never the client's choice: it decides where pushed messages go.
        return self.name()

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        metadata = body_of(request).get("metadata")
        return metadata if isinstance(metadata, dict) else None


def refusing_over(
    limits: ChatLimits,
) -> Callable[[Request], Coroutine[Any, Any, HTTPResponse | None]]:
    """Return a middleware that answers 429 with Retry-After to REST messages over `limits`."""

    async def refuse_over_the_limit(request: Request) -> HTTPResponse | None:
        body = request.json if request.method == "POST" else None
        sender = body.get("sender") if isinstance(body, dict) else None
        if not isinstance(sender, str):
            return None  # the webhook names what is wrong with the request
        refused = refusal(limits, f"{REST_SENDERS}{sender}", client_address(request))
        if refused is None:
            return None
        retry_after = {"Retry-After": str(refused.retry_after_s)}
        return json(refused.as_json(), status=429, headers=retry_after)

    return refuse_over_the_limit


def body_of(request: Request) -> dict[str, Any]:
    """Return the JSON object a channel request must carry; 400 for anything else."""
    body = request.json
    if not isinstance(body, dict):
        raise InvalidUsage("the body must be a JSON object with 'sender' and 'message'")
    return body
