"""A customer's socket: the project's socket.io protocol as the widget speaks it.

Rasa issues every session (bot/session_tokens.py): a socket asks with the token of an
earlier confirmation, or none, and gets `{session_id, session_token}` back.
`WidgetSocket` is a blocking client for tests that follow one conversation;
`AsyncWidgetSocket` is the same conversation in asyncio, for loads of many at once, and
reconnects as the widget does (handoff_server/static/chat-core.js).
"""

from __future__ import annotations

import asyncio
import queue
from collections.abc import Callable
from typing import Any

import aiohttp
import socketio

from lumen.vocabulary import SHOWN_UNTIL

CONNECT_TIMEOUT_S = 10
PAGE_URL = "https://lumen-river.example/faq"

ReplyHandler = Callable[[dict[str, Any]], None]


def user_uttered(text: str, page_url: str, shown_until: float | None) -> dict[str, Any]:
    """Return a customer message with the widget's metadata (the socket names the session):
    the page, and the time of the last message it had shown."""
    return {
        "message": text,
        "customData": {"channel": "web", "page_url": page_url, SHOWN_UNTIL: shown_until},
    }


class WidgetSocket:
    """Open a server-issued session (or resume one by its token), send the widget's messages.

    `session_id` is the conversation's id as Rasa and the handoff server know it;
    `session_token` is what resumes it later (the widget keeps it across page reloads),
    `since` the timestamp of the last message the page showed.
    """

    def __init__(
        self,
        rasa_url: str,
        on_reply: ReplyHandler,
        page_url: str = PAGE_URL,
        session_token: str | None = None,
        since: float | None = None,
    ) -> None:
        self.page_url = page_url
        confirmed: queue.Queue[dict[str, str]] = queue.Queue()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("bot_uttered", on_reply)
        self.sio.on("session_confirm", confirmed.put)
        self.sio.connect(rasa_url, socketio_path="/socket.io", wait_timeout=CONNECT_TIMEOUT_S)
        # As the widget does on resuming: what was said after `since` comes again.
        self.sio.emit("session_request", {"session_token": session_token, "since": since})
        session = confirmed.get(timeout=CONNECT_TIMEOUT_S)
        if session_token and session["session_token"] != session_token:
            raise RuntimeError("Rasa did not resume the session of that token")
        self.session_id: str = session["session_id"]
        self.session_token: str = session["session_token"]

    def say(self, text: str, shown_until: float | None = None) -> None:
        """Send a customer message with the widget's session metadata."""
        self.sio.emit("user_uttered", user_uttered(text, self.page_url, shown_until))

    def send(self, text: str) -> Any:
        """Send a customer message and return Rasa's acknowledgement: the refusal, if it
        refused it, or None once its turn is over."""
        message = user_uttered(text, self.page_url, None)
        return self.sio.call("user_uttered", message, timeout=CONNECT_TIMEOUT_S)

    def close(self) -> None:
        """Disconnect the socket."""
        self.sio.disconnect()


class AsyncWidgetSocket:
    """The widget's connection: it asks for its session on every (re)connection, as a new
    socket joins the session's room only then, and sends only once Rasa confirmed it.

    As the widget does, it names the time of the last message it got (`since`) when it
    resumes, and Rasa sends again what was said while it was away.
    """

    def __init__(
        self,
        rasa_url: str,
        on_reply: ReplyHandler,
        page_url: str = PAGE_URL,
        on_drop: Callable[[], None] = lambda: None,
        http: aiohttp.ClientSession | None = None,
    ) -> None:
        self.rasa_url = rasa_url
        # Issued by Rasa on the first confirmation; the token resumes it on a reconnection.
        self.session_id = ""
        self.session_token: str | None = None
        self.page_url = page_url
        self.confirmed = asyncio.Event()
        self.closing = False
        self.since: float | None = None
        # Many sockets share the caller's HTTP session, which the caller closes.
        self.sio = socketio.AsyncClient(
            reconnection=True, reconnection_delay_max=10, http_session=http
        )

        def replied(payload: dict[str, Any]) -> None:
            stamp = payload.get("timestamp") if isinstance(payload, dict) else None
            if isinstance(stamp, int | float):
                self.since = max(self.since or stamp, stamp)
            on_reply(payload)

        self.sio.on("bot_uttered", replied)
        self.sio.on("connect", self._request_session)
        self.sio.on("session_confirm", self._confirm)

        async def dropped(*_reason: Any) -> None:
            self.confirmed.clear()
            if not self.closing:
                on_drop()

        self.sio.on("disconnect", dropped)

    async def _request_session(self) -> None:
        self.confirmed.clear()
        await self.sio.emit(
            "session_request", {"session_token": self.session_token, "since": self.since}
        )

    async def _confirm(self, session: dict[str, str]) -> None:
        if self.session_token in (None, session["session_token"]):
            self.session_id, self.session_token = session["session_id"], session["session_token"]
            self.confirmed.set()

    async def open(self) -> None:
        """Connect and wait until Rasa confirmed the session."""
        await self.sio.connect(
            self.rasa_url, socketio_path="/socket.io", wait_timeout=CONNECT_TIMEOUT_S
        )
        await asyncio.wait_for(self.confirmed.wait(), CONNECT_TIMEOUT_S)

    async def say(self, text: str, ack_timeout_s: float) -> dict[str, Any] | None:
        """Send a customer message as soon as the session is confirmed (TimeoutError if never).

        Rasa acknowledges a message once its turn is over, or at once with the reason it
        refused it, as the widget shows it (`{error, message, retry_after_s}`): return that
        refusal, or None once Rasa took it (or `ack_timeout_s` passed without a word).
        """
        await asyncio.wait_for(self.confirmed.wait(), CONNECT_TIMEOUT_S)
        message = user_uttered(text, self.page_url, self.since)
        try:
            answer = await self.sio.call("user_uttered", message, timeout=ack_timeout_s)
        except socketio.exceptions.TimeoutError:
            return None
        return answer if isinstance(answer, dict) and "error" in answer else None

    async def close(self) -> None:
        """Disconnect the socket for good, and stop reconnecting if it is down."""
        self.closing = True
        await self.sio.shutdown()
