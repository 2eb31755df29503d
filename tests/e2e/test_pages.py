"""The widget, kiosk and agent console in a real browser, against the real stack."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
from playwright.sync_api import Dialog, Page, Response, WebSocket, expect

from scripts.stack import Stack
from tests.e2e.faqs import faq
from tests.e2e.pages import (
    HOSTILE_TEXT,
    REPLY_TIMEOUT_MS,
    answer_of,
    ask,
    asks_a_question_then_for_a_person,
    open_widget,
    signed_in,
)
from tests.e2e.tracker import rasa_user_events

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def wait_until(page: Page, condition: Callable[[], Any], what: str) -> Any:
    """Poll `condition` while letting the page's events arrive."""
    deadline = time.monotonic() + REPLY_TIMEOUT_MS / 1000
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        page.wait_for_timeout(100)
    return result


def queued_in_console(page: Page, stack: Stack, token: str, session_id: str) -> dict[str, Any]:
    """Wait until the customer's handoff is in the agents' queue; return it."""
    return wait_until(
        page,
        lambda: [
            item
            for item in requests.get(
                f"{stack.handoff_url}/api/conversations?state=queued",
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            ).json()["conversations"]
            if item["sender_id"] == session_id
        ],
        "the handoff to reach the queue",
    )[0]


def abandoned_sessions(stack: Stack, token: str) -> set[str]:
    """Return the Rasa session ids of the conversations whose customer left."""
    response = requests.get(
        f"{stack.handoff_url}/api/conversations",
        params={"state": "abandoned"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    response.raise_for_status()
    return {item["sender_id"] for item in response.json()["conversations"]}


class Sessions:
    """Record the tokens a page presents to Rasa and the session ids Rasa confirms to it.

    socket.io starts with HTTP long-polling, then upgrades to a websocket: both are watched.
    """

    REQUESTED = re.compile(r'"session_request",\{"session_token":(null|"[^"]*")')
    CONFIRMED = re.compile(r'"session_confirm",\{"session_id":"([^"]+)"')

    def __init__(self, page: Page) -> None:
        self.tokens: list[str | None] = []
        self.ids: list[str] = []
        page.on("websocket", self._watch)
        page.on("request", lambda request: self._sent(request.post_data or ""))
        page.on("response", self._received_over_polling)

    def _watch(self, socket: WebSocket) -> None:
        socket.on("framesent", self._sent)
        socket.on("framereceived", self._received)

    def _sent(self, payload: str | bytes) -> None:
        self.tokens.extend(json.loads(token) for token in self.REQUESTED.findall(text_of(payload)))

    def _received(self, payload: str | bytes) -> None:
        self.ids.extend(self.CONFIRMED.findall(text_of(payload)))

    def _received_over_polling(self, response: Response) -> None:
        if "/socket.io/" in response.url and response.request.method == "GET":
            self._received(response.text())


def text_of(payload: str | bytes) -> str:
    return payload.decode(errors="replace") if isinstance(payload, bytes) else payload


def test_widget_answers_from_the_faq_and_a_reload_continues_the_session(
    stack: Stack, new_page: Callable[[], Page]
) -> None:
    page = new_page()
    sessions = Sessions(page)
    page.goto(f"{stack.handoff_url}/")
    open_widget(page)

    ask(page, "wifi password?")
    expect(page.locator(".lrc-msg--user").last).to_contain_text("wifi password?")
    expect(page.get_by_text(answer_of("wifi_access"))).to_be_visible()

    # The FAQ's button is a chip: tapping it shows its title and asks its payload.
    page.get_by_role("button", name="Wifi is slow").click()
    expect(page.locator(".lrc-msg--user").last).to_have_text(re.compile(r"Wifi is slow$"))
    expect(page.get_by_text(answer_of("wifi_slow"))).to_be_visible()

    # Rasa issued the session: the page asked for one without a token.
    session_id = page.evaluate("localStorage.getItem('lumen-chat:session')")
    assert sessions.tokens == [None] and sessions.ids == [session_id]

    page.reload()
    # The conversation is still on screen, and the page's token resumes the same Rasa session.
    expect(page.get_by_text(answer_of("wifi_access"))).to_be_visible()
    wait_until(page, lambda: len(sessions.ids) == 2, "the reloaded page to resume its session")
    assert sessions.tokens[1] == page.evaluate("localStorage.getItem('lumen-chat:token')")
    assert sessions.ids[1] == session_id
    assert page.evaluate("localStorage.getItem('lumen-chat:session')") == session_id

    ask(page, "how to get online")
    expect(page.get_by_text(answer_of("wifi_access"))).to_have_count(2)
    texts = [event["text"] for event in rasa_user_events(stack, session_id)]
    assert texts[0] == "wifi password?" and texts[-1] == "how to get online"
    metadata = rasa_user_events(stack, session_id)[-1]["metadata"]
    assert metadata["channel"] == "web"
    assert metadata["page_url"] == f"{stack.handoff_url}/"


def test_widget_shows_markup_as_literal_text(stack: Stack, new_page: Callable[[], Page]) -> None:
    page = new_page()
    dialogs: list[str] = []

    def note_and_dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", note_and_dismiss)
    page.goto(f"{stack.handoff_url}/")
    open_widget(page)
    bot_messages = page.locator(".lrc-msg--bot")
    before = bot_messages.count()

    ask(page, HOSTILE_TEXT)
    expect(page.locator(".lrc-msg--user").last).to_contain_text(HOSTILE_TEXT)
    # Wait for the bot's answer, so a broken image would have fired its handler by now.
    expect(bot_messages).to_have_count(before + 1)
    page.wait_for_timeout(500)

    assert page.locator(".lrc-log b, .lrc-log img").count() == 0
    assert dialogs == []


def test_kiosk_answers_a_quick_question_then_wipes_itself_when_left_alone(
    stack: Stack, agent_token: str, new_page: Callable[[], Page]
) -> None:
    page = new_page()
    sessions = Sessions(page)
    page.goto(f"{stack.handoff_url}/kiosk?kiosk_id=reception-2&idle=6&countdown=2")
    expect(page.get_by_text("Reception, deck 2 ·")).to_be_visible()
    wait_until(page, lambda: sessions.ids, "the kiosk to start a session")
    first_session = sessions.ids[0]

    page.get_by_role("button", name="Dining hours").click()
    expect(page.locator(".lrc-msg--user").last).to_contain_text(faq("dining_hours").question)
    expect(page.get_by_text(answer_of("dining_hours"))).to_be_visible()
    metadata = rasa_user_events(stack, first_session)[-1]["metadata"]
    assert metadata["channel"] == "kiosk"
    assert metadata["kiosk_id"] == "reception-2"
    assert metadata["kiosk_location"] == "Reception, deck 2"
    assert metadata["kiosk_place"] == "reception"

    # The guest asks for a person, then walks away.
    page.get_by_role("button", name="Talk to a person").click()
    # (The bot may say more after it, such as asking for a contact while the guest waits.)
    expect(page.locator(".lrc-msg--bot", has_text=re.compile("queue|Nobody"))).to_have_count(1)

    # Left alone: "Still there?", a countdown, then a clean screen on a new session.
    expect(page.get_by_role("dialog", name="Still there?")).to_be_visible(timeout=15_000)
    expect(page.get_by_role("dialog", name="Still there?")).to_be_hidden(timeout=15_000)
    expect(page.get_by_text(answer_of("dining_hours"))).to_have_count(0)
    expect(page.locator(".lrc-msg--user")).to_have_count(0)
    wait_until(page, lambda: len(sessions.ids) == 2, "a new session after the wipe")
    second_session = sessions.ids[1]
    assert second_session != first_session
    assert sessions.tokens == [None, None]
    assert page.evaluate("Object.keys(localStorage).length") == 0
    # The guest who walked away is no longer waiting in the agents' queue.
    wait_until(
        page,
        lambda: first_session in abandoned_sessions(stack, agent_token),
        "the walked-away guest's handoff to be abandoned",
    )

    # The next guest's question lands in a conversation that holds nothing of the last one.
    page.get_by_role("button", name="Lost and found").click()
    expect(page.get_by_text(answer_of("lost_and_found"))).to_be_visible()
    assert [event["text"] for event in rasa_user_events(stack, second_session)] == [
        faq("lost_and_found").question
    ]


@pytest.fixture(scope="module")
def console_login(stack: Stack) -> tuple[str, str]:
    """Create an agent whose password we know, to sign in through the form."""
    return "dana", stack.create_agent("dana", "--name", "Dana")


def test_console_agent_takes_over_a_handed_off_conversation(
    stack: Stack,
    agent_token: str,
    console_login: tuple[str, str],
    new_page: Callable[[], Page],
) -> None:
    username, password = console_login
    console = new_page()
    console.goto(f"{stack.handoff_url}/console")

    # A wrong password shows the API's own message.
    console.get_by_label("Username").fill(username)
    console.get_by_label("Password").fill("not-the-password")
    console.get_by_role("button", name="Sign in").click()
    expect(console.get_by_role("alert")).to_have_text("wrong username or password")

    console.get_by_label("Password").fill(password)
    console.get_by_role("button", name="Sign in").click()
    expect(console.get_by_role("status")).to_have_text("Live")

    # A customer on the website asks a question, then for a person.
    customer = new_page()
    session_id = asks_a_question_then_for_a_person(customer, stack.handoff_url)

    # It appears in the agent's queue by itself (server-sent events, no reload).
    queued = queued_in_console(console, stack, agent_token, session_id)
    item = console.locator(f'#queued-list .queue-item[data-id="{queued["id"]}"]')
    expect(item).to_contain_text("Asked for a person")
    expect(item).to_contain_text("Website")
    item.click()

    # The agent reads the whole conversation with what the bot understood.
    expect(console.locator("#facts")).to_contain_text(session_id)
    transcript = console.locator("#transcript")
    expect(transcript).to_contain_text("wifi password?")
    expect(transcript).to_contain_text(answer_of("wifi_access"))
    expect(transcript).to_contain_text("I want to talk to a person")
    expect(transcript).to_contain_text("wifi_access")

    console.get_by_role("button", name="Claim").click()
    expect(console.locator("#conversation-state")).to_have_text("assigned")
    expect(customer.get_by_text("Dana has joined the conversation.")).to_be_visible()

    # A colleague with the same conversation open sees Dana writing.
    colleague = signed_in(new_page(), {"token": agent_token, "agent": {"username": "alice"}})
    colleague.goto(f"{stack.handoff_url}/console")
    expect(colleague.get_by_role("status")).to_have_text("Live")
    colleague.locator(f'.queue-item[data-id="{queued["id"]}"]').click()
    expect(colleague.locator("#conversation-state")).to_have_text("assigned")

    console.get_by_label("Message to the customer").press_sequentially("Hi, I'm")
    expect(colleague.get_by_text("Dana is typing…")).to_be_visible()
    console.get_by_label("Message to the customer").fill(
        "Hi, I'm Dana. Let me check the wifi for you."
    )
    console.get_by_role("button", name="Send", exact=True).click()
    expect(customer.get_by_text("Hi, I'm Dana. Let me check the wifi for you.")).to_be_visible()

    # The customer's answer reaches the open conversation live.
    ask(customer, "Thanks, my cabin is 214")
    expect(transcript).to_contain_text("Thanks, my cabin is 214")

    console.get_by_label("New note").fill("Router in cabin 214 may need a reset.")
    console.get_by_role("button", name="Add note").click()
    expect(console.locator("#notes")).to_contain_text("Router in cabin 214 may need a reset.")

    console.get_by_role("button", name="Resolve").click()
    expect(console.locator("#conversation-state")).to_have_text("resolved")
    expect(console.locator(f'.queue-item[data-id="{queued["id"]}"]')).to_have_count(0)

    # What the customer wrote before the resolve reached them still reaches Dana, marked late
    # (the action server's call, as when Rasa forwards it just after the resolve)...
    requests.post(
        f"{stack.handoff_url}/api/conversations/{queued['id']}/customer-messages",
        json={"text": "Sorry, one more thing!"},
        headers={"Authorization": f"Bearer {stack.env['HANDOFF_SERVICE_TOKEN']}"},
        timeout=10,
    ).raise_for_status()
    late = transcript.locator(".turn-late")
    expect(late).to_contain_text("Sorry, one more thing!")
    expect(late).to_contain_text("arrived after the conversation was resolved")
    # ...and she takes the conversation back: the customer has a person again.
    console.get_by_role("button", name="Reopen").click()
    expect(console.locator("#conversation-state")).to_have_text("assigned")
    expect(customer.get_by_text("Dana has joined the conversation.")).to_have_count(2)
    ask(customer, "It's about the minibar")
    expect(transcript).to_contain_text("It's about the minibar")


def test_the_agent_replies_with_the_knowledge_bases_answer_in_one_click(
    stack: Stack, agent_token: str, new_page: Callable[[], Page]
) -> None:
    customer = new_page()
    customer.goto(f"{stack.handoff_url}/")
    open_widget(customer)
    ask(customer, "I want to talk to a person")
    expect(customer.get_by_text(re.compile("queue"))).to_be_visible()
    session_id = customer.evaluate("localStorage.getItem('lumen-chat:session')")

    console = signed_in(new_page(), {"token": agent_token, "agent": {"username": "alice"}})
    console.goto(f"{stack.handoff_url}/console")
    queued = queued_in_console(console, stack, agent_token, session_id)
    console.locator(f'#queued-list .queue-item[data-id="{queued["id"]}"]').click()
    console.get_by_role("button", name="Claim").click()
    expect(console.locator("#conversation-state")).to_have_text("assigned")

    # The customer asks what the knowledge base knows; the agent sees its answer, ready.
    wifi = faq("wifi_access")
    ask(customer, wifi.paraphrases[0])
    suggestions = console.get_by_role("region", name=re.compile("Suggested answers"))
    expect(suggestions).to_contain_text(wifi.question)
    suggestions.get_by_role("button", name="Use this answer").first.click()
    reply = console.get_by_label("Message to the customer")
    expect(reply).to_have_value(answer_of("wifi_access"))
    # Nothing went out until the agent sends it, edited or not.
    expect(customer.get_by_text(answer_of("wifi_access"))).to_have_count(0)
    reply.press("Control+End")
    reply.type(" Ask me if it does not work.")
    console.get_by_role("button", name="Send", exact=True).click()
    expect(
        customer.get_by_text(f"{answer_of('wifi_access')} Ask me if it does not work.")
    ).to_be_visible()


def test_console_lists_a_message_left_while_nobody_was_on_duty(
    stack: Stack, console_login: tuple[str, str], new_page: Callable[[], Page]
) -> None:
    username, password = console_login
    console = new_page()
    console.goto(f"{stack.handoff_url}/console")
    console.get_by_label("Username").fill(username)
    console.get_by_label("Password").fill(password)
    console.get_by_role("button", name="Sign in").click()
    expect(console.get_by_role("status")).to_have_text("Live")

    # The action server's calls, as when a customer leaves a message after hours.
    service = {"Authorization": f"Bearer {stack.env['HANDOFF_SERVICE_TOKEN']}"}
    handoff = requests.post(
        f"{stack.handoff_url}/api/handoffs",
        json={"sender_id": "after-hours-1", "channel": "web", "reason": "customer_request"},
        headers=service,
        timeout=10,
    ).json()
    requests.post(
        f"{stack.handoff_url}/api/conversations/{handoff['id']}/offline-message",
        json={"contact": "maria@example.com", "text": "My key card <b>stopped</b> working"},
        headers=service,
        timeout=10,
    ).raise_for_status()

    ticket = console.locator(f'#offline-list .queue-item[data-id="{handoff["id"]}"]')
    ticket.click()
    expect(console.locator("#transcript")).to_contain_text("My key card <b>stopped</b> working")
    expect(console.locator("#reply-hint")).to_contain_text("maria@example.com")
    console.get_by_role("button", name="Resolve").click()
    expect(console.locator("#conversation-state")).to_have_text("resolved")
    expect(ticket).to_have_count(0)
