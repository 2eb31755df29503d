"""One configuration per business, and the widget on a phone, offline and unread, in Chromium."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from scripts.handoff_process import running_handoff_server
from scripts.stack import Stack
from tests.e2e.clients import agent_api, wait_until_queued
from tests.e2e.pages import AXE, answer_of, ask, open_widget, serious_accessibility_problems

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPO_ROOT = Path(__file__).resolve().parents[2]
HOTEL = REPO_ROOT / "tests" / "data" / "hotel" / "assistant.yml"
HOTEL_PRIMARY = "rgb(91, 26, 50)"  # #5b1a32 in tests/data/hotel/assistant.yml


@pytest.fixture(scope="module")
def hotel_url(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Run a second handoff server, configured for the hotel only, beside the stack's Rasa."""
    with running_handoff_server(
        tmp_path_factory.mktemp("hotel"),
        ASSISTANT_CONFIG=str(HOTEL),
        RASA_URL=stack.rasa_url,
        PUBLIC_RASA_URL=stack.rasa_url,
    ) as server:
        yield server.url


def test_a_second_business_is_a_second_file(hotel_url: str, new_page: Callable[[], Page]) -> None:
    site = new_page()
    site.goto(f"{hotel_url}/")
    expect(site).to_have_title("Harbour View Hotel · rooms by the sea")
    launcher = site.get_by_role("button", name="Chat with Harbour View Hotel")
    expect(launcher).to_have_css("background-color", HOTEL_PRIMARY)
    launcher.click()
    dialog = site.get_by_role("dialog", name="Harbour View Hotel")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Welcome to the Harbour View Hotel.")

    kiosk = new_page()
    kiosk.goto(f"{hotel_url}/kiosk?kiosk_id=lobby")
    expect(kiosk).to_have_title("Ask the concierge · Main lobby")
    expect(kiosk.get_by_role("heading", level=1)).to_have_text("Ask the concierge")
    expect(kiosk.locator("#attract")).to_contain_text("Ask the concierge")
    kiosk.get_by_role("button", name="Tap to ask").click()
    expect(kiosk.get_by_text("Good day! Ask about breakfast")).to_be_visible()
    quick = kiosk.get_by_role("navigation", name="Common questions").get_by_role("button")
    expect(quick).to_have_text(["Breakfast times", "Call a taxi", "Spa hours"])
    expect(quick.first).to_have_css("border-top-color", HOTEL_PRIMARY)

    console = new_page()
    console.goto(f"{hotel_url}/console")
    expect(console).to_have_title("Agent console · Harbour View Hotel")
    expect(console.get_by_text("Harbour View Hotel front desk")).to_be_visible()
    for page in (site, kiosk, console):
        assert "Lumen River" not in page.content()


def test_a_page_overrides_the_widget_title_and_colour(
    stack: Stack, new_page: Callable[[], Page]
) -> None:
    page = new_page()
    # A page of the business's own site, with its own words and colour for the widget.
    host_page = (
        "<!doctype html><title>Spring offers</title><h1>Spring offers</h1>"
        f'<script src="{stack.handoff_url}/widget.js" data-rasa-url="{stack.rasa_url}"'
        ' data-title="Spring offers desk" data-color-primary="#1e6b3a" async></script>'
    )
    page.route(
        f"{stack.handoff_url}/spring",
        lambda route: route.fulfill(body=host_page, content_type="text/html"),
    )
    page.goto(f"{stack.handoff_url}/spring")
    launcher = page.get_by_role("button", name="Chat with Spring offers desk")
    expect(launcher).to_have_css("background-color", "rgb(30, 107, 58)")
    launcher.click()
    expect(page.get_by_role("dialog", name="Spring offers desk")).to_be_visible()


def customer_with_an_agent(
    stack: Stack, new_page: Callable[[], Page], token: str
) -> tuple[Page, str]:
    """Open the widget, ask for a person and have the agent claim it; return the API path."""
    page = new_page()
    page.goto(f"{stack.handoff_url}/")
    open_widget(page)
    ask(page, "I want to talk to a person")
    expect(page.get_by_text("queue", exact=False).last).to_be_visible()
    session_id = page.evaluate("localStorage.getItem('lumen-chat:session')")
    conversation = f"/api/conversations/{wait_until_queued(stack, token, session_id)['id']}"
    agent_api(stack, token, "POST", f"{conversation}/claim")
    expect(page.get_by_text("has joined the conversation")).to_be_visible()
    return page, conversation


def say_as_agent(stack: Stack, token: str, conversation: str, text: str) -> None:
    agent_api(stack, token, "POST", f"{conversation}/messages", json={"text": text})


def test_the_launcher_counts_what_arrives_while_the_chat_is_closed(
    stack: Stack, agent_token: str, new_page: Callable[[], Page]
) -> None:
    page, conversation = customer_with_an_agent(stack, new_page, agent_token)
    page.get_by_role("button", name="Close chat").click()
    badge = page.locator(".lrc-badge")
    expect(badge).to_be_hidden()

    say_as_agent(stack, agent_token, conversation, "Your table is booked for eight.")
    say_as_agent(stack, agent_token, conversation, "Anything else?")
    expect(badge).to_have_text("2")
    expect(page.get_by_role("button", name="Chat with Lumen River Cruises, 2 new")).to_be_visible()

    page.get_by_role("button", name="Chat with Lumen River Cruises, 2 new").click()
    expect(page.get_by_text("Anything else?")).to_be_visible()
    expect(badge).to_be_hidden()


def test_the_widget_works_on_a_320_pixel_touch_screen(stack: Stack, browser: Browser) -> None:
    context = browser.new_context(
        viewport={"width": 320, "height": 568}, has_touch=True, is_mobile=True
    )
    try:
        page = context.new_page()
        page.goto(f"{stack.handoff_url}/")
        page.get_by_role("button", name="Chat with Lumen River Cruises").tap()
        panel = page.get_by_role("dialog", name="Lumen River Cruises")
        expect(panel).to_be_visible()
        box = panel.bounding_box()
        assert box is not None
        assert box["x"] >= 0 and box["x"] + box["width"] <= 320
        assert box["y"] >= 0

        page.get_by_label("Your message").fill("wifi password?")
        page.get_by_role("button", name="Send message").tap()
        expect(page.get_by_text(answer_of("wifi_access"))).to_be_visible()
        page.get_by_role("button", name="Wifi is slow").tap()
        expect(page.get_by_text(answer_of("wifi_slow"))).to_be_visible()
        # Nothing sideways: the page does not scroll horizontally.
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
    finally:
        context.close()


def test_after_a_network_drop_every_agent_message_shows_once_in_order(
    stack: Stack, agent_token: str, new_page: Callable[[], Page]
) -> None:
    page, conversation = customer_with_an_agent(stack, new_page, agent_token)

    page.context.set_offline(True)
    expect(page.get_by_text("Connection lost. Reconnecting…")).to_be_visible()
    sent = [f"While you were away, message {number}." for number in range(1, 4)]
    for text in sent:
        say_as_agent(stack, agent_token, conversation, text)
    page.context.set_offline(False)

    expect(page.get_by_text(sent[-1])).to_be_visible()
    bubbles = page.locator(".lrc-msg--bot .lrc-bubble").all_text_contents()
    shown = [text for text in bubbles if "While you were away" in text]
    assert [text.split(": ", 1)[-1] for text in shown] == sent


def test_the_widget_the_kiosk_and_its_attract_screen_have_no_serious_accessibility_problem(
    stack: Stack, browser: Browser
) -> None:
    assert AXE.exists(), f"{AXE} is missing: run `make setup`"
    # axe-core adds style elements of its own, which the pages' policy would (rightly) block.
    context = browser.new_context(bypass_csp=True)
    try:
        check_accessibility(stack, context)
    finally:
        context.close()


def check_accessibility(stack: Stack, context: BrowserContext) -> None:
    site = context.new_page()
    site.goto(f"{stack.handoff_url}/")
    open_widget(site)
    ask(site, "wifi password?")
    expect(site.get_by_text(answer_of("wifi_access"))).to_be_visible()
    assert serious_accessibility_problems(site) == []

    kiosk = context.new_page()
    kiosk.goto(f"{stack.handoff_url}/kiosk?kiosk_id=reception-2")
    # The attract screen a passer-by sees first, then the chat.
    expect(kiosk.get_by_role("button", name="Tap to ask")).to_be_visible()
    assert serious_accessibility_problems(kiosk) == []
    kiosk.get_by_role("button", name="Dining hours").click()
    expect(kiosk.get_by_text(answer_of("dining_hours"))).to_be_visible()
    assert serious_accessibility_problems(kiosk) == []
