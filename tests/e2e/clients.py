"""How the end-to-end tests talk to the stack: a customer's socket, the agents' API, patience."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from lumen.vocabulary import SHOWN_UNTIL
from scripts.kb_questions import response_text
from scripts.stack import REPO_ROOT, Stack
from scripts.widget_socket import WidgetSocket

REPLY_TIMEOUT_S = 30
# What the bot says first when a turn runs long (bot/busy.py); the reply still follows.
BUSY_NOTICE = response_text(REPO_ROOT / "bot" / "domain.yml", "utter_busy")
QUIET_PERIOD_S = 4
# A browser's EventSource waits about this long before it opens a stream that ended again.
STREAM_RETRY_S = 1
# An agent's stream quiet this long is opened again (opening one marks the agent seen too).
QUIET_STREAM_S = 10


class WidgetClient(WidgetSocket):
    """A customer's socket that queues every reply for the test to read."""

    def __init__(
        self, rasa_url: str, session_token: str | None = None, since: float | None = None
    ) -> None:
        self.replies: queue.Queue[dict[str, Any]] = queue.Queue()
        super().__init__(rasa_url, self.replies.put, session_token=session_token, since=since)

    def next_reply(self) -> dict[str, Any]:
        """Return the next message the bot or an agent sent to this socket.

        A busy notice is not a reply: a slow turn on a busy machine says it first.
        """
        deadline = time.monotonic() + REPLY_TIMEOUT_S
        while True:
            reply = self.replies.get(timeout=max(0.1, deadline - time.monotonic()))
            if reply.get("text") != BUSY_NOTICE:
                return reply

    def reply_containing(self, fragment: str) -> dict[str, Any]:
        """Return the first reply whose text contains `fragment`, skipping others."""
        seen = []
        deadline = time.monotonic() + REPLY_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                reply = self.replies.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                break
            if fragment in reply.get("text", ""):
                return reply
            seen.append(reply)
        raise AssertionError(f"no reply containing {fragment!r}; got {seen}")

    def drain(self, seconds: float) -> list[dict[str, Any]]:
        """Collect every reply that arrives within `seconds`."""
        replies = []
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                replies.append(self.replies.get(timeout=remaining))
            except queue.Empty:
                break
        return replies


class KioskClient(WidgetClient):
    """A kiosk screen's socket: its messages carry the kiosk's channel, id and place, as
    kiosk.js sends them (config/assistant.yml)."""

    def __init__(self, rasa_url: str, kiosk_id: str, place: str) -> None:
        self.kiosk_id = kiosk_id
        self.place = place
        super().__init__(rasa_url)

    def say(self, text: str, shown_until: float | None = None) -> None:
        """Send a guest's message with the kiosk's session metadata."""
        metadata = {
            "channel": "kiosk",
            "kiosk_id": self.kiosk_id,
            "kiosk_place": self.place,
            SHOWN_UNTIL: shown_until,
        }
        self.sio.emit("user_uttered", {"message": text, "customData": metadata})


class FromAddress(HTTPAdapter):
    """Connect from another loopback address (127.0.0.0/8 is all this machine's)."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, source_address=(self.address, 0), **kwargs)


def session_from(address: str) -> requests.Session:
    """Return an HTTP session whose connections come from `address`, a loopback address."""
    session = requests.Session()
    session.mount("http://", FromAddress(address))
    return session


def agent_api(stack: Stack, token: str, method: str, path: str, **kwargs: Any) -> Any:
    """Call the handoff API as the agent and return the decoded body."""
    response = requests.request(
        method,
        f"{stack.handoff_url}{path}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
        **kwargs,
    )
    assert response.ok, f"{method} {path}: {response.status_code} {response.text}"
    return response.json()


@contextmanager
def on_duty(stack: Stack, token: str) -> Iterator[None]:
    """Keep the agent of `token` on duty, as their open console does: an event stream held
    open, and opened again when it ends (as a browser's EventSource does), marks them seen.

    Without it the agent is on duty for two minutes after their last call, and a customer
    who asks for a person later, on a slow machine, is asked to leave a message instead.
    """
    stop = threading.Event()

    def hold() -> None:
        while not stop.is_set():
            # A stream ends with its worker (killed in some tests), or quiet after a while:
            # this thread is then free to see `stop`, and no other closes it under its read.
            with (
                suppress(requests.RequestException),
                requests.get(
                    f"{stack.handoff_url}/api/stream",
                    headers={"Authorization": f"Bearer {token}"},
                    stream=True,
                    timeout=(REPLY_TIMEOUT_S, QUIET_STREAM_S),
                ) as stream,
            ):
                for _ in stream.iter_content(chunk_size=None):
                    if stop.is_set():
                        return
            stop.wait(STREAM_RETRY_S)

    holder = threading.Thread(target=hold, name="agent-on-duty", daemon=True)
    holder.start()
    try:
        yield
    finally:
        stop.set()
        holder.join(timeout=REPLY_TIMEOUT_S + QUIET_STREAM_S)


@contextmanager
def agent_on_duty(stack: Stack, username: str = "alice") -> Iterator[str]:
    """Create an agent account through the CLI, log in as that agent and stay on duty while
    the context lasts; yield the bearer token."""
    token = stack.log_in(username, stack.create_agent(username))
    with on_duty(stack, token):
        yield token


def wait_for(condition: Any, what: str, timeout: float = REPLY_TIMEOUT_S) -> Any:
    """Poll `condition` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def wait_until_queued(stack: Stack, token: str, session_id: str) -> dict[str, Any]:
    """Wait for the customer's conversation to show in the agents' queue; return it."""
    (queued,) = wait_for(
        lambda: [
            item
            for item in agent_api(stack, token, "GET", "/api/conversations?state=queued")[
                "conversations"
            ]
            if item["sender_id"] == session_id
        ],
        "the conversation to appear in the queue",
    )
    return queued


def claimed_by_an_agent(stack: Stack, token: str, customer: WidgetClient) -> str:
    """Have `customer` ask for a person and the agent of `token` claim them; return the
    conversation's API path."""
    customer.say("I want to talk to a real person please")
    customer.reply_containing("queue")
    queued = wait_until_queued(stack, token, customer.session_id)
    conversation = f"/api/conversations/{queued['id']}"
    agent_api(stack, token, "POST", f"{conversation}/claim")
    return conversation
