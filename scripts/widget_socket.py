"""A customer's socket: the project's socket.io protocol as the widget speaks it."""

from __future__ import annotations

import queue
from collections.abc import Callable
from typing import Any

import socketio

CONNECT_TIMEOUT_S = 10


class WidgetSocket:
    """Open a server-issued session (or resume one by its token), send the widget's messages.

    `session_id` is the conversation's id as Rasa and the handoff server know it;
    `session_token` is what resumes it later (the widget keeps it across page reloads).
    """

    def __init__(
        self,
        rasa_url: str,
        on_reply: Callable[[dict[str, Any]], None],
        page_url: str = "https://lumen-river.example/faq",
        session_token: str | None = None,
    ) -> None:
        self.page_url = page_url
        confirmed: queue.Queue[dict[str, str]] = queue.Queue()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("bot_uttered", on_reply)
        self.sio.on("session_confirm", confirmed.put)
        self.sio.connect(rasa_url, socketio_path="/socket.io", wait_timeout=CONNECT_TIMEOUT_S)
        self.sio.emit("session_request", {"session_token": session_token})
        session = confirmed.get(timeout=CONNECT_TIMEOUT_S)
        if session_token and session["session_token"] != session_token:
            raise RuntimeError("Rasa did not resume the session of that token")
        self.session_id: str = session["session_id"]
        self.session_token: str = session["session_token"]

    def say(self, text: str) -> None:
        """Send a customer message with the widget's session metadata."""
        self.sio.emit(
            "user_uttered",
            {"message": text, "customData": {"channel": "web", "page_url": self.page_url}},
        )

    def close(self) -> None:
        """Disconnect the socket."""
        self.sio.disconnect()
