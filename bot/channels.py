"""The project's channels: Rasa's socket.io and REST, bounded, screened and guarded.

Every message goes through `bot.privacy.masked` (card numbers masked first),
`bot.screening.screened` (typed intent syntax is text) and `bot.failsafe.guarded`, so a
turn the action server could not serve still tells the customer and reaches a person;
calls to the action server give up after the timeout of endpoints.yml
(`bot.action_timeout`). Text over MAX_TEXT_CHARS never reaches NLU: Rasa runs NLU on any
length, and one message of 120,000 characters kept it busy for minutes.

The socket.io channel has the two bugs of Rasa 3.6 under python-socketio 5.x fixed:

- `session_request` did not await `enter_room`, so with `session_persistence: true`
  the socket never joined its session's room and every bot message went nowhere.
- `send_custom_json` passed the payload to `emit` as keyword arguments (TypeError).

The channel keeps Rasa's name, `socketio`, so `trigger_intent?output_channel=latest`
finds it and agent messages reach the customer's own socket.
"""

from __future__ import annotations

import gc
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint, Sanic
from sanic.exceptions import InvalidUsage, PayloadTooLarge
from sanic.request import Request

from bot.action_results import validate_action_results_once
from bot.action_timeout import time_action_calls
from bot.failsafe import guarded
from bot.privacy import load_masker, masked
from bot.pushes import deliver_pushes_once
from bot.screening import screened
from bot.settings import BotSettings
from lumen.vocabulary import MAX_SENDER_ID_CHARS, MAX_TEXT_CHARS

logger = logging.getLogger(__name__)

# Every request to Rasa's server, channels and HTTP API alike (Sanic's default: 100 MB).
MAX_REQUEST_BYTES = 1_000_000


def handler_of(on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Callable[..., Any]:
    """Mask card numbers first, then screen and guard a channel's message handler."""
    return masked(guarded(screened(on_new_message), BotSettings.from_env()))


class FixedSocketIOOutput(SocketIOOutput):
    """Socket.io output that sends custom payloads as `{"custom": payload}`."""

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        """Send a custom payload to the recipient's room."""
        await self._send_message(recipient_id, {"custom": json_message})


class FixedSocketIOInput(SocketIOInput):
    """Socket.io input whose sessions join their room and whose output sends custom payloads."""

    def get_output_channel(self) -> FixedSocketIOOutput | None:
        """Create the output channel used for messages pushed from outside (trigger_intent)."""
        if self.sio is None:
            return None
        return FixedSocketIOOutput(self.sio, self.bot_message_evt)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Build Rasa's blueprint, then replace the two handlers that carry the bugs."""
        on_new_message = handler_of(on_new_message)
        socketio_blueprint = super().blueprint(on_new_message)
        sio = self.sio
        assert sio is not None  # set by the parent's blueprint()

        async def session_request(sid: str, data: dict | None) -> None:
            data = data or {}
            if not data.get("session_id"):
                data["session_id"] = uuid.uuid4().hex
            if self.session_persistence:
                await sio.enter_room(sid, data["session_id"], namespace=self.namespace)
            await sio.emit("session_confirm", data["session_id"], room=sid)

        async def handle_message(sid: str, data: dict) -> None:
            output_channel = FixedSocketIOOutput(sio, self.bot_message_evt)
            if self.session_persistence:
                if not data.get("session_id"):
                    logger.warning("Ignored a socket.io message without a session_id.")
                    return
                sender_id = data["session_id"]
            else:
                sender_id = sid
            text = data.get("message", "")
            if not isinstance(text, str) or len(text) > MAX_TEXT_CHARS:
                # Tell the customer rather than dropping the message silently.
                await output_channel.send_text_message(
                    sender_id,
                    f"Sorry, that message is too long for me. Please keep it under "
                    f"{MAX_TEXT_CHARS} characters.",
                )
                return
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

        sio.on("session_request", session_request, namespace=self.namespace)
        sio.on(self.user_message_evt, handle_message, namespace=self.namespace)
        socketio_blueprint.listener("after_server_start")(freeze_loaded_objects)
        socketio_blueprint.listener("after_server_start")(time_action_calls)
        return socketio_blueprint


class GuardedRestInput(RestInput):
    """Rasa's REST channel (`/webhooks/rest/webhook`), bounded, screened and guarded.

    A malformed request gets a 400 naming the field, text over the limit a 413, before NLU.
    """

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Build Rasa's REST blueprint around the screened and guarded message handler."""
        rest_blueprint = super().blueprint(handler_of(on_new_message))
        rest_blueprint.listener("before_server_start")(bound_requests)
        rest_blueprint.listener("before_server_start")(serve_pushes)
        rest_blueprint.listener("before_server_start")(speed_up_action_results)
        rest_blueprint.listener("before_server_start")(load_masker)
        rest_blueprint.listener("after_server_start")(time_action_calls)
        return rest_blueprint

    async def _extract_sender(self, req: Request) -> str:
        sender = body_of(req).get("sender")
        if not isinstance(sender, str) or not 0 < len(sender) <= MAX_SENDER_ID_CHARS:
            raise InvalidUsage(
                f"'sender' must be a string of 1 to {MAX_SENDER_ID_CHARS} characters"
            )
        return sender

    def _extract_message(self, req: Request) -> str:
        text = body_of(req).get("message")
        if not isinstance(text, str):
            raise InvalidUsage("'message' must be a string")
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


def body_of(request: Request) -> dict[str, Any]:
    """Return the JSON object a channel request must carry; 400 for anything else."""
    body = request.json
    if not isinstance(body, dict):
        raise InvalidUsage("the body must be a JSON object with 'sender' and 'message'")
    return body


async def bound_requests(app: Sanic, *_: Any) -> None:
    """Refuse request bodies over MAX_REQUEST_BYTES on every route of Rasa's server."""
    app.config.REQUEST_MAX_SIZE = MAX_REQUEST_BYTES


async def serve_pushes(app: Sanic, *_: Any) -> None:
    """Deliver each push of the handoff server once (`bot.pushes`)."""
    deliver_pushes_once(app, BotSettings.from_env().rasa_api_token)


async def speed_up_action_results(*_: Any) -> None:
    """Check the action server's answers with a validator built once (`bot.action_results`)."""
    validate_action_results_once()


async def freeze_loaded_objects(*_: Any) -> None:
    """Keep the garbage collector off the millions of objects of the loaded model.

    Without this, every full collection walks TensorFlow's object graph and stalls a
    turn by 300-500 ms at random (seen in `make bench` as spikes of agent messages).
    """
    gc.collect()
    gc.freeze()
    logger.info(
        "Froze %d objects of the loaded model out of garbage collection.", gc.get_freeze_count()
    )
