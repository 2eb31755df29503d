"""What the socket.io server needs when several Rasa instances serve the same customers.

A customer's socket lives in one Rasa process, but an agent's message may be pushed through
another (the handoff server calls whichever instance nginx picks, `trigger_intent`), and
that instance emits the message to the conversation's room. With SOCKETIO_MESSAGE_QUEUE
(redis://...) the server's client manager is python-socketio's AsyncRedisManager: every
emit is published on SOCKETIO_CHANNEL and each instance delivers it to the sockets it
holds, so the message reaches the socket wherever it is. Without it (one Rasa) emits stay
in the process.

Routing is the other half: engine.io keeps a socket's session in the process that opened
it, and a client's later HTTP polls and its WebSocket upgrade must reach that process.
With SOCKETIO_ROUTE set (supervision names each instance), session ids start with the
instance's route, and nginx sends every request naming one to that instance
(deploy/nginx.conf), whatever the client's address or cookies.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

import socketio

from bot.settings import BotSettings

logger = logging.getLogger(__name__)

# An event no client listens to: it only marks a point in the channel's stream.
MARKER_EVENT = "lumen_caught_up"
# Not any server's host id, so that the sender's own listener handles what it publishes too.
EVERY_HOST = "every-host"
CATCH_UP_TIMEOUT_S = 2.0
# Before taking sockets, markers go out every MARKER_WAIT_S until the listener hears one.
SUBSCRIBE_TIMEOUT_S = 10.0
MARKER_WAIT_S = 0.2


class OrderedRedisManager(socketio.AsyncRedisManager):  # type: ignore[misc]
    """The Redis manager, delivering every emit in the channel's order, its own included.

    python-socketio's manager delivers its own emits to its sockets at once and others'
    when they come through Redis, a moment later. One conversation's turns run on any
    instance, one after the other under the conversation's lock: an agent's message
    emitted by one instance could reach the socket after the bot's next reply, emitted
    locally by the other (4 of 145 agent messages out of order under load). Here every
    emit is delivered when it comes back from the channel, so in the order Redis took it
    (if Redis cannot be reached, an instance's own sockets still get its emits at once).

    It can also wait until what was published so far reached this process. A socket
    resuming its session replays what it missed and joins the room under the
    conversation's lock; a message emitted just before that lock was taken must arrive
    before the socket joins, or it is shown twice. Once a marker published now comes back,
    everything published before it has been delivered here.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.markers: dict[str, asyncio.Future[None]] = {}

    async def subscribed(self, timeout_s: float = SUBSCRIBE_TIMEOUT_S) -> bool:
        """Return once this process's listener hears the channel (False: not within timeout_s)."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while asyncio.get_running_loop().time() < deadline:
            if await self._marker_returns(MARKER_WAIT_S):
                return True
        return False

    async def caught_up(self, timeout_s: float = CATCH_UP_TIMEOUT_S) -> None:
        """Return once every emit published before this call was delivered in this process."""
        if not await self._marker_returns(timeout_s):
            logger.warning("Redis did not return a marker in %s s; resuming anyway.", timeout_s)

    async def _marker_returns(self, timeout_s: float) -> bool:
        """Publish a marker; return whether this process's listener got it within timeout_s."""
        marker = uuid.uuid4().hex
        arrived: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.markers[marker] = arrived
        message = {"method": "emit", "event": MARKER_EVENT, "data": [marker]}
        try:
            await super()._publish({**message, "room": marker, "host_id": EVERY_HOST})
            await asyncio.wait_for(arrived, timeout_s)
            return True
        # Rasa's Python 3.10: asyncio's TimeoutError is not yet the built-in one.
        except asyncio.TimeoutError:
            return False
        finally:
            self.markers.pop(marker, None)

    async def _publish(self, data: dict[str, Any]) -> None:
        if not self._own_emit(data):
            await super()._publish(data)
        elif await super()._publish({**data, "host_id": EVERY_HOST}) is None:
            # The library gave up on Redis: this process's own sockets get it at least.
            await super()._handle_emit(data)

    def _own_emit(self, message: dict[str, Any]) -> bool:
        """Tell whether this process emitted `message` and delivers it from the channel: every
        emit but one awaiting a callback, which the library routes back by host id."""
        own = message.get("host_id") == self.host_id
        return own and message.get("method", "emit") == "emit" and message.get("callback") is None

    async def _handle_emit(self, message: dict[str, Any]) -> None:
        if self._own_emit(message):
            return  # delivered when it comes back from the channel (`_publish`)
        if message.get("event") == MARKER_EVENT:
            arrived = self.markers.get(message["data"][0])
            if arrived is not None and not arrived.done():
                arrived.set_result(None)
            return
        await super()._handle_emit(message)


def scale_out(sio: socketio.AsyncServer, settings: BotSettings) -> None:
    """Share emits through Redis and mark session ids with this instance's route, if set."""
    if settings.socketio_message_queue:
        # Rasa builds the server itself; before any client connects the manager can change.
        manager = OrderedRedisManager(
            settings.socketio_message_queue, channel=settings.socketio_channel
        )
        manager.set_server(sio)
        sio.manager = manager
        sio.manager_initialized = False
    if settings.socketio_route:
        route = settings.socketio_route
        generate_id = sio.eio.generate_id
        sio.eio.generate_id = lambda: f"{route}.{generate_id()}"


async def caught_up(sio: socketio.AsyncServer) -> None:
    """Wait until other instances' emits so far reached this one's sockets (if there are any)."""
    if isinstance(sio.manager, OrderedRedisManager):
        await sio.manager.caught_up()


async def listening(sio: socketio.AsyncServer) -> None:
    """Start the Redis listener before the server takes sockets, and wait until it hears.

    python-socketio starts it at the first connection, and Redis keeps nothing for a
    listener not yet subscribed: that socket's session confirmation would be lost.
    """
    if isinstance(sio.manager, OrderedRedisManager) and not sio.manager_initialized:
        sio.manager_initialized = True
        sio.manager.initialize()
        if not await sio.manager.subscribed():
            logger.error("The socket.io listener does not hear Redis yet; emits may be lost.")
