"""A customer's socket: Rasa's socket.io protocol as rasa-webchat and the project's widget speak it.

`WidgetSocket` is a blocking client for tests that follow one conversation;
`AsyncWidgetSocket` is the same conversation in asyncio, for loads of many at once, and
reconnects as the widget does (handoff_server/static/chat-core.js).
"""

from __future__ import annotations

import asyncio
import queue
import uuid
from collections.abc import Callable
from typing import Any

import aiohttp
import socketio

CONNECT_TIMEOUT_S = 10
PAGE_URL = "https://lumen-river.example/faq"

ReplyHandler = Callable[[dict[str, Any]], None]


def user_uttered(text: str, session_id: str, page_url: str) -> dict[str, Any]:
    """Return a customer message with the widget's session metadata."""
    return {
        "message": text,
        "session_id": session_id,
        "customData": {"channel": "web", "page_url": page_url},
    }


class WidgetSocket:
    """Connect with session persistence, send messages with the widget's metadata."""

    def __init__(
        self,
        rasa_url: str,
        on_reply: ReplyHandler,
        page_url: str = PAGE_URL,
        session_id: str | None = None,
    ) -> None:
        self.session_id = session_id or uuid.uuid4().hex
        self.page_url = page_url
        confirmed: queue.Queue[str] = queue.Queue()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("bot_uttered", on_reply)
        self.sio.on("session_confirm", confirmed.put)
        self.sio.connect(rasa_url, socketio_path="/socket.io", wait_timeout=CONNECT_TIMEOUT_S)
        self.sio.emit("session_request", {"session_id": self.session_id})
        if confirmed.get(timeout=CONNECT_TIMEOUT_S) != self.session_id:
            raise RuntimeError("Rasa confirmed another session")

    def say(self, text: str) -> None:
        """Send a customer message with the widget's session metadata."""
        self.sio.emit("user_uttered", user_uttered(text, self.session_id, self.page_url))

    def close(self) -> None:
        """Disconnect the socket."""
        self.sio.disconnect()


class AsyncWidgetSocket:
    """The widget's connection: it asks for its session on every (re)connection, as a new
    socket joins the session's room only then, and sends only once Rasa confirmed it."""

    def __init__(
        self,
        rasa_url: str,
        on_reply: ReplyHandler,
        page_url: str = PAGE_URL,
        session_id: str | None = None,
        on_drop: Callable[[], None] = lambda: None,
        http: aiohttp.ClientSession | None = None,
    ) -> None:
        self.rasa_url = rasa_url
        self.session_id = session_id or uuid.uuid4().hex
        self.page_url = page_url
        self.confirmed = asyncio.Event()
        self.closing = False
        # Many sockets share the caller's HTTP session, which the caller closes.
        self.sio = socketio.AsyncClient(
            reconnection=True, reconnection_delay_max=10, http_session=http
        )
        self.sio.on("bot_uttered", on_reply)
        self.sio.on("connect", self._request_session)
        self.sio.on("session_confirm", self._confirm)

        async def dropped(*_reason: Any) -> None:
            self.confirmed.clear()
            if not self.closing:
                on_drop()

        self.sio.on("disconnect", dropped)

    async def _request_session(self) -> None:
        self.confirmed.clear()
        await self.sio.emit("session_request", {"session_id": self.session_id})

    async def _confirm(self, session_id: str) -> None:
        if session_id == self.session_id:
            self.confirmed.set()

    async def open(self) -> None:
        """Connect and wait until Rasa confirmed the session."""
        await self.sio.connect(
            self.rasa_url, socketio_path="/socket.io", wait_timeout=CONNECT_TIMEOUT_S
        )
        await asyncio.wait_for(self.confirmed.wait(), CONNECT_TIMEOUT_S)

    async def say(self, text: str) -> None:
        """Send a customer message as soon as the session is confirmed (TimeoutError if never)."""
        await asyncio.wait_for(self.confirmed.wait(), CONNECT_TIMEOUT_S)
        await self.sio.emit("user_uttered", user_uttered(text, self.session_id, self.page_url))

    async def close(self) -> None:
        """Disconnect the socket for good, and stop reconnecting if it is down."""
        self.closing = True
        await self.sio.shutdown()
