"""Agents' working day in the real console: alerts, several conversations, canned responses,
transfer, keyboard shortcuts; two agents and a supervisor in Chromium, a socket.io customer."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from scripts.stack import Stack
from tests.e2e.clients import WidgetClient, wait_until_queued
from tests.e2e.pages import serious_accessibility_problems

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CANNED = "Hello {customer_name}, I'm {agent_name} and I'll take it from here."
# What the page did to alert the agent: notifications raised, beeps started. Runs before the
# page's scripts; `window.hideTab()` makes the page believe its tab is hidden.
RECORD_ALERTS = """
window.alerts = { notifications: [], beeps: 0 };
const RealNotification = window.Notification;
window.Notification = class extends RealNotification {
  constructor(title, options) {
    super(title, options);
    window.alerts.notifications.push(title);
  }
};
const createOscillator = AudioContext.prototype.createOscillator;
AudioContext.prototype.createOscillator = function () {
  window.alerts.beeps += 1;
  return createOscillator.call(this);
};
let hidden = false;
Object.defineProperty(document, "visibilityState", { get: () => (hidden ? "hidden" : "visible") });
window.hideTab = () => { hidden = true; };
"""


@pytest.fixture
def sign_in(browser: Browser, stack: Stack) -> Iterator[Callable[[str, str], Page]]:
    """Sign agents in, each in a browser context of their own that may show notifications."""
    contexts = []
    errors: list[str] = []

    def sign_in_(username: str, password: str) -> Page:
        # axe-core injects styles, which the console's policy would (rightly) refuse.
        context = browser.new_context(
            viewport={"width": 1280, "height": 860}, permissions=["notifications"], bypass_csp=True
        )
        contexts.append(context)
        context.add_init_script(RECORD_ALERTS)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(f"{username}: {error}"))
        page.clock.install()
        page.goto(f"{stack.handoff_url}/console")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("status")).to_have_text("Live")
        return page

    yield sign_in_
    for context in contexts:
        context.close()
    assert not errors, f"script errors in the console: {errors}"


def alerts(page: Page) -> dict[str, Any]:
    return page.evaluate("window.alerts")  # type: ignore[no-any-return]


def waiting_in_title(page: Page) -> None:
    """The tab's title counts the customers waiting (the agent holds nothing unread here)."""
    waiting = page.locator("#queued-list .queue-item").count()
    expect(page).to_have_title(re.compile(rf"^\({waiting}\) Agent console"))


def test_two_agents_are_alerted_one_answers_with_a_canned_response_and_transfers(
    stack: Stack, sign_in: Callable[[str, str], Page]
) -> None:
    # A supervisor keeps the canned responses in the console.
    supervisor = sign_in("sandra", stack.create_agent("sandra", "--role", "supervisor"))
    supervisor.get_by_role("button", name="Canned responses").click()
    manager = supervisor.get_by_role("dialog", name=re.compile("Canned responses"))
    for shortcut, text in (("welcome", "Hello!"), ("bye", "Goodbye {customer_name}.")):
        manager.get_by_role("textbox", name="Shortcut").fill(shortcut)
        manager.get_by_role("textbox", name="Text").fill(text)
        manager.get_by_role("button", name="Add response").click()
        expect(manager.get_by_text(f"Saved /{shortcut}.")).to_be_visible()
    manager.get_by_role("button", name="Edit /welcome").click()
    manager.get_by_role("textbox", name="Text").fill(CANNED)
    manager.get_by_role("button", name="Save changes").click()
    manager.get_by_role("button", name="Delete /bye").click()
    expect(manager.locator(".canned-item")).to_have_count(1)
    expect(manager.locator(".canned-item")).to_contain_text(CANNED)
    assert serious_accessibility_problems(supervisor) == []
    manager.get_by_role("button", name="Close", exact=True).click()

    ann_password = stack.create_agent("ann", "--name", "Ann")
    ann = sign_in("ann", ann_password)
    ben = sign_in("ben", stack.create_agent("ben", "--name", "Ben"))
    ben.evaluate("window.hideTab()")
    assert serious_accessibility_problems(ann) == []

    # A customer on the website gives their name, then asks for a person.
    customer = WidgetClient(stack.rasa_url)
    try:
        customer.say("Hi, I'm Maria Lopez")
        customer.reply_containing("Maria")
        customer.say("I want to talk to a person")
        customer.reply_containing("queue")
        queued = wait_until_queued(stack, stack.log_in("ann", ann_password), customer.session_id)
        work_the_conversation(stack, customer, queued["id"], ann, ben)
    finally:
        customer.close()


def work_the_conversation(
    stack: Stack, customer: WidgetClient, conversation_id: int, ann: Page, ben: Page
) -> None:
    item = f'#queued-list .queue-item[data-id="{conversation_id}"]'
    # Both agents hear of the new customer: a beep, the count in the title, and a
    # notification for Ben, whose tab is hidden.
    for agent in (ann, ben):
        expect(agent.locator(item)).to_contain_text("Maria Lopez")
        waiting_in_title(agent)
        assert alerts(agent)["beeps"] >= 1
    expect(ann.locator("#notice")).to_contain_text("A customer is waiting: Maria Lopez")
    assert "A customer is waiting" in alerts(ben)["notifications"]
    assert alerts(ann)["notifications"] == []  # Ann is looking at the console

    # The wait ticks; past the configured limit (180 s) the customer is highlighted.
    expect(ben.locator(item).locator(".queue-age")).to_have_text(re.compile(r"^0:[0-5]\d$"))
    ben.clock.fast_forward("03:05")
    expect(ben.locator(item)).to_have_class(re.compile("queue-item--late"))
    expect(ben.locator(item)).to_contain_text("Waiting over 3 min")

    # Ann opens the conversation and claims it from the keyboard.
    ann.locator(item).click()
    expect(ann.locator("#conversation-title")).to_have_text("Maria Lopez")
    ann.keyboard.press("Alt+c")
    expect(ann.locator("#conversation-state")).to_have_text("assigned")
    customer.reply_containing("Ann has joined")
    tabs = ann.get_by_role("navigation", name="Open conversations")
    expect(tabs.get_by_role("button", name=re.compile("^Maria Lopez"))).to_be_visible()

    # `/` in the reply box finds the canned response; Enter puts it in, filled in.
    reply = ann.get_by_label("Message to the customer")
    reply.press_sequentially("/welc")
    expect(ann.get_by_role("listbox", name="Canned responses")).to_contain_text("/welcome")
    reply.press("Enter")
    expected = "Hello Maria Lopez, I'm Ann and I'll take it from here."
    expect(reply).to_have_value(expected)
    reply.press("Enter")
    assert customer.reply_containing(expected)["text"] == expected
    expect(reply).to_have_value("")

    # Ann looks at a message left after hours; Maria writes meanwhile: one unread, counted
    # on her tab and in the title, read again with Alt+1.
    left = stack_handoff(stack, "after-hours-ann")
    ann.locator(f'.queue-item[data-id="{left}"]').click()
    expect(ann.locator("#transcript")).to_contain_text("Please call me back")
    customer.say("Are you still there?")
    maria_tab = tabs.get_by_role("button", name=re.compile("^Maria Lopez, 1 unread"))
    expect(maria_tab).to_be_visible()
    expect(ann).to_have_title(re.compile(r"^\(\d+\) Agent console"))
    ann.keyboard.press("Alt+1")
    expect(ann.locator("#transcript")).to_contain_text("Are you still there?")
    expect(tabs.get_by_role("button", name=re.compile("unread"))).to_have_count(0)

    # The shortcuts are listed under `?`.
    ann.locator("#conversation-title").click()
    ann.keyboard.press("?")
    shortcuts = ann.get_by_role("dialog", name="Keyboard shortcuts")
    expect(shortcuts).to_contain_text("Transfer to a colleague or team")
    assert serious_accessibility_problems(ann) == []
    ann.keyboard.press("Escape")

    # Ann transfers Maria to Ben with a note; Ben is told, with a notification.
    ann.keyboard.press("Alt+t")
    transfer = ann.get_by_role("dialog", name="Transfer the conversation")
    transfer.get_by_label("To").select_option("agent:ben")
    transfer.get_by_label(re.compile("^Note for them")).fill("Maria wants a refund for the spa")
    assert serious_accessibility_problems(ann) == []
    transfer.get_by_role("button", name="Transfer").click()
    expect(transfer).to_be_hidden()
    expect(ann.locator("#history")).to_contain_text("transferred to Ben")
    customer.reply_containing("Ben has joined")

    expect(ben.locator("#notice")).to_contain_text(
        "Ann transferred a conversation to you: Maria wants a refund for the spa"
    )
    assert "Ann transferred a conversation to you" in alerts(ben)["notifications"]
    ben_tabs = ben.get_by_role("navigation", name="Open conversations")
    ben_tabs.get_by_role("button", name=re.compile("^Maria Lopez")).click()
    expect(ben.locator("#notes")).to_contain_text("Maria wants a refund for the spa")
    expect(ben.locator("#conversation-state")).to_have_text("assigned")
    ben.keyboard.press("Alt+r")
    expect(ben.locator("#conversation-state")).to_have_text("resolved")


def stack_handoff(stack: Stack, sender_id: str) -> int:
    """Leave a message after hours, as the action server records one; return its id."""
    service = {"Authorization": f"Bearer {stack.env['HANDOFF_SERVICE_TOKEN']}"}
    handoff = requests.post(
        f"{stack.handoff_url}/api/handoffs",
        json={"sender_id": sender_id, "channel": "web", "reason": "customer_request"},
        headers=service,
        timeout=10,
    )
    handoff.raise_for_status()
    requests.post(
        f"{stack.handoff_url}/api/conversations/{handoff.json()['id']}/offline-message",
        json={"contact": "sam@example.com", "text": "Please call me back"},
        headers=service,
        timeout=10,
    ).raise_for_status()
    return int(handoff.json()["id"])
