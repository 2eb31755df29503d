"""Rasa's socket.io channel as a hostile client would use it: a session id opens nothing.

A customer's conversation id is no secret (agents read it, logs carry it). Only the
server names a session, only the token it issued resumes one, a socket speaks for the
session it opened whatever its messages say, and only the pages of WIDGET_ORIGINS may
open a socket from a browser.
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import socketio
from playwright.sync_api import Page, expect

from bot.session_tokens import SessionTokens
from scripts.stack import Stack
from scripts.widget_socket import WidgetSocket
from tests.e2e.clients import WidgetClient, agent_api, claimed_by_an_agent
from tests.e2e.faqs import faq
from tests.e2e.pages import ask, open_widget
from tests.e2e.tracker import customer_texts

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TIMEOUT_S = 30
FOREIGN_ORIGIN = "https://attacker.example"
WIFI = faq("wifi_access")


class RawSocket:
    """A socket.io client that sends whatever it likes and records what comes back."""

    EVENTS = ("session_confirm", "bot_uttered", "session_error")

    def __init__(
        self, stack: Stack, origin: str | None = None, transports: list[str] | None = None
    ) -> None:
        self.events: dict[str, queue.Queue[Any]] = {name: queue.Queue() for name in self.EVENTS}
        # Python's websocket-client adds an Origin of its own unless told not to.
        self.sio = socketio.Client(
            reconnection=False, websocket_extra_options={"suppress_origin": bool(origin)}
        )
        for name, arrived in self.events.items():
            self.sio.on(name, arrived.put)
        self.sio.connect(
            stack.rasa_url,
            headers={"Origin": origin} if origin else {},
            transports=transports,
            socketio_path="/socket.io",
            wait_timeout=TIMEOUT_S,
        )

    def open_session(self, request: Any) -> dict[str, str]:
        """Send `session_request` with `request`; return what the server confirmed."""
        self.sio.emit("session_request", request)
        confirmed = self.next("session_confirm")
        # Rasa's own channel confirms with the bare session id.
        return confirmed if isinstance(confirmed, dict) else {"session_id": confirmed}

    def say(self, message: dict[str, Any]) -> None:
        self.sio.emit("user_uttered", message)

    def next(self, event: str) -> Any:
        return self.events[event].get(timeout=TIMEOUT_S)

    def close(self) -> None:
        self.sio.disconnect()


@pytest.fixture
def raw(stack: Stack) -> Iterator[Callable[..., RawSocket]]:
    """Open hostile sockets; close them all afterwards."""
    opened: list[RawSocket] = []

    def open_(**options: Any) -> RawSocket:
        opened.append(RawSocket(stack, **options))
        return opened[-1]

    yield open_
    for socket in opened:
        socket.close()


@pytest.fixture
def customer(stack: Stack) -> Iterator[WidgetSocket]:
    """A widget customer who asked one question and got its answer."""
    replies: queue.Queue[dict[str, Any]] = queue.Queue()
    widget = WidgetSocket(stack.rasa_url, replies.put)
    widget.say(WIFI.question)
    assert replies.get(timeout=TIMEOUT_S)["text"] == WIFI.answer.strip()
    yield widget
    widget.close()


FORGED_REQUESTS: dict[str, Callable[[str], Any]] = {
    "its id": lambda victim: {"session_id": victim},
    "its id as the token": lambda victim: {"session_token": victim},
    "a made-up signature": lambda victim: {"session_token": f"{victim}.{'0' * 64}"},
    "another secret's token": lambda victim: {
        "session_token": SessionTokens("not the server's secret").token_for(victim)
    },
    "a token that is not text": lambda victim: {"session_token": [victim]},
    "nothing": lambda victim: None,
}


@pytest.mark.parametrize("forged", FORGED_REQUESTS.values(), ids=FORGED_REQUESTS.keys())
def test_a_session_request_without_the_sessions_token_opens_a_new_session(
    customer: WidgetSocket, raw: Callable[..., RawSocket], forged: Callable[[str], Any]
):
    granted = raw().open_session(forged(customer.session_id))
    assert granted["session_id"] != customer.session_id
    # The new session comes with the token that resumes it.
    assert granted.get("session_token", "").startswith(f"{granted['session_id']}.")


def test_a_session_resumes_with_its_own_token_and_no_other(
    stack: Stack, customer: WidgetSocket, raw: Callable[..., RawSocket]
):
    # A page reload: a new socket presents the token and continues the conversation.
    reloaded = raw()
    assert reloaded.open_session({"session_token": customer.session_token}) == {
        "session_id": customer.session_id,
        "session_token": customer.session_token,
    }
    reloaded.say({"message": WIFI.paraphrases[0]})
    assert reloaded.next("bot_uttered")["text"] == WIFI.answer.strip()
    assert customer_texts(stack, customer.session_id) == [WIFI.question, WIFI.paraphrases[0]]

    # Another session's genuine signature does not open this one.
    attacker = raw()
    own_signature = attacker.open_session(None)["session_token"].split(".")[1]
    forged = f"{customer.session_id}.{own_signature}"
    assert raw().open_session({"session_token": forged})["session_id"] != customer.session_id


def test_naming_another_session_in_a_message_writes_into_the_senders_own(
    stack: Stack, customer: WidgetSocket, raw: Callable[..., RawSocket]
):
    attacker = raw()
    own = attacker.open_session(None)["session_id"]
    attacker.say({"message": WIFI.paraphrases[0], "session_id": customer.session_id})

    # The attacker is answered in its own session; the customer's is untouched.
    assert attacker.next("bot_uttered")["text"] == WIFI.answer.strip()
    assert customer_texts(stack, own) == [WIFI.paraphrases[0]]
    assert customer_texts(stack, customer.session_id) == [WIFI.question]


def test_a_socket_that_opened_no_session_is_told_and_nothing_is_processed(
    stack: Stack, customer: WidgetSocket, raw: Callable[..., RawSocket]
):
    attacker = raw()
    attacker.say({"message": WIFI.paraphrases[0], "session_id": customer.session_id})

    assert "session_request" in attacker.next("session_error")["error"]
    assert attacker.events["bot_uttered"].empty()
    assert customer_texts(stack, customer.session_id) == [WIFI.question]


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_only_the_widget_origins_may_open_a_socket(
    stack: Stack, raw: Callable[..., RawSocket], transport: str
):
    with pytest.raises(socketio.exceptions.ConnectionError):
        raw(origin=FOREIGN_ORIGIN, transports=[transport])

    for origin in stack.env["WIDGET_ORIGINS"].split():
        widget_page = raw(origin=origin, transports=[transport])
        assert widget_page.open_session(None)["session_id"]


OPEN_SOCKET_IO = """async (url) => {
  // socket.io by hand: engine.io's open packet ("0{...}"), then the CONNECT ("40").
  const socket = new WebSocket(url);
  const frames = [];
  return await new Promise((resolve) => {
    socket.onmessage = (event) => {
      frames.push(event.data);
      if (event.data.startsWith("0{")) socket.send("40");
      if (event.data.startsWith("40") || event.data.startsWith("44")) resolve(frames);
    };
    socket.onerror = () => resolve(frames);
    socket.onclose = () => resolve(frames);
  });
}"""


def test_in_a_browser_a_foreign_page_cannot_open_the_chat_over_a_websocket(
    stack: Stack, new_page: Callable[[], Page]
):
    url = f"{stack.rasa_url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket"
    # Any page of another origin; Chromium lets only a local page reach a local socket.
    foreign = new_page()
    foreign.goto(f"{stack.actions_url}/health")
    refused = foreign.evaluate(OPEN_SOCKET_IO, url)
    # The WebSocket itself opened; socket.io refused to connect the page.
    assert refused[0].startswith("0{") and refused[-1].startswith("44")
    assert "not one of the pages allowed" in refused[-1]

    widget_page = new_page()
    widget_page.goto(f"{stack.handoff_url}/")
    assert widget_page.evaluate(OPEN_SOCKET_IO, url)[-1].startswith("40")


def refusal_of(socket: socketio.Client, text: str) -> Any:
    """Send a message and wait for Rasa's acknowledgement: a refusal, or nothing once answered."""
    return socket.call("user_uttered", {"message": text}, timeout=TIMEOUT_S)


def test_a_socket_faster_than_anyone_types_is_told_its_message_was_not_sent(limited_stack: Stack):
    customer = RawSocket(limited_stack)
    try:
        session_id = customer.open_session(None)["session_id"]
        texts = [WIFI.question, *WIFI.paraphrases[:2]]
        for text in texts:
            customer.say({"message": text})
            assert customer.next("bot_uttered")["text"] == WIFI.answer.strip()

        refused = refusal_of(customer.sio, "hello?")

        assert refused["error"] == "too_many_messages"
        assert "faster than we can read them" in refused["message"]
        assert refused["retry_after_s"] > 0
        # Refused before NLU: Rasa never saw it, and nothing was said in the conversation.
        assert customer_texts(limited_stack, session_id) == texts
        assert customer.events["bot_uttered"].empty()
    finally:
        customer.close()


def test_agent_messages_reach_a_customer_who_is_at_the_limit(limited_stack: Stack):
    agent = limited_stack.log_in("dana", limited_stack.create_agent("dana"))
    customer = WidgetClient(limited_stack.rasa_url)
    try:
        conversation = claimed_by_an_agent(limited_stack, agent, customer)
        customer.reply_containing("has joined the conversation")
        customer.say("my cabin is 214")
        assert refusal_of(customer.sio, "the wifi is still down") is None
        assert refusal_of(customer.sio, "hello??")["error"] == "too_many_messages"

        # The handoff server's pushes are not the customer's messages: none is held back.
        answers = [f"Agent message {number}" for number in range(1, 6)]
        for text in answers:
            agent_api(
                limited_stack,
                agent,
                "POST",
                f"{conversation}/messages",
                json={"text": text},
            )
        for text in answers:
            customer.reply_containing(text)
    finally:
        customer.close()


def test_in_the_widget_a_message_over_the_limit_shows_as_not_sent(
    limited_stack: Stack, new_page: Callable[[], Page]
):
    page = new_page()
    page.goto(f"{limited_stack.handoff_url}/")
    open_widget(page)
    for number, text in enumerate([WIFI.question, *WIFI.paraphrases[:2]], start=1):
        ask(page, text)
        expect(page.get_by_text(WIFI.answer.strip())).to_have_count(number)

    ask(page, "hello?")

    not_sent = page.locator(".lrc-msg--user").last
    expect(not_sent).to_contain_text("hello?")
    expect(not_sent).to_contain_text("Not sent")
    expect(not_sent).to_contain_text("faster than we can read them")
    expect(page.locator(".lrc-typing")).to_be_hidden()
    # After a reload the message still shows as not sent, never as delivered.
    page.reload()
    expect(page.locator(".lrc-msg--user").last).to_contain_text("Not sent")
    # One click sends it again: still over the limit, it shows as not sent once more, once.
    page.get_by_role("button", name="Send again").click()
    expect(page.locator(".lrc-msg--user", has_text="hello?")).to_have_count(1)
    expect(page.locator(".lrc-msg--user").last).to_contain_text("Not sent")
