"""A customer's socket: Rasa's socket.io protocol as rasa-webchat speaks it."""

from __future__ import annotations

import queue
import uuid
from collections.abc import Callable
from typing import Any

import socketio

CONNECT_TIMEOUT_S = 10


class WidgetSocket:
    """Connect with session persistence, send messages with the widget's metadata."""

    def __init__(
        self,
        rasa_url: str,
        on_reply: Callable[[dict[str, Any]], None],
        page_url: str = "https://lumen-river.example/faq",
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
        self.sio.emit(
            "user_uttered",
            {
                "message": text,
                "session_id": self.session_id,
                "customData": {"channel": "web", "page_url": self.page_url},
            },
        )

    def close(self) -> None:
        """Disconnect the socket."""
        self.sio.disconnect()
