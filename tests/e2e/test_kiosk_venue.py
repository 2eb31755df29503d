"""A kiosk that knows where and when it is: the real stack, its clock set by VENUE_NOW."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from scripts.stack import Stack
from tests.e2e.clients import KioskClient, agent_api, wait_until_queued
from tests.e2e.conftest import watched_stack
from tests.e2e.pages import ask

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# A Tuesday evening on the ship (local time): the Lumen Trio plays in the Lounge.
EVENING = "2026-12-01T21:45"


@pytest.fixture(scope="module")
def ship_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack of its own whose action server reads the schedule at a fixed time."""
    workdir: Path = tmp_path_factory.mktemp("kiosk-stack")
    with watched_stack(workdir, VENUE_NOW=EVENING) as stack:
        yield stack


@pytest.fixture
def reception_kiosk(ship_stack: Stack) -> Iterator[KioskClient]:
    kiosk = KioskClient(ship_stack.rasa_url, "reception-2", "reception")
    yield kiosk
    kiosk.close()


def test_whats_on_now_on_the_kiosk_page_gives_the_running_event_and_the_way_from_it(
    ship_stack: Stack, new_page: Callable[[], Page]
):
    page = new_page()
    page.goto(f"{ship_stack.handoff_url}/kiosk?kiosk_id=reception-2")
    attract = page.locator("#attract")
    expect(attract).to_contain_text("Ask Lumen")
    expect(attract).to_contain_text("Next on board: Late-night piano at 23:30, Lounge")
    page.get_by_role("button", name="Tap to ask").click()
    expect(attract).to_be_hidden()
    ask(page, "what's on now?")
    on_now = page.locator(".lrc-msg--bot", has_text="On now: Live music with the Lumen Trio")
    expect(on_now).to_contain_text("until 23:30, in the Lounge")
    expect(on_now).to_contain_text("1. Go to the midship lift beside Reception.")
    expect(on_now).to_contain_text("2. Take the midship lift up to deck 3.")
    expect(page.locator(".lrc-msg--bot", has_text="Next: Late-night piano")).to_be_visible()

    # Start over: the attract screen again, and nothing of this guest in the page or storage.
    page.get_by_role("button", name="Start over").click()
    expect(attract).to_be_visible()
    expect(page.get_by_role("button", name="Tap to ask")).to_be_visible()
    expect(page.locator(".lrc-msg--user")).to_have_count(0)
    assert "Lumen Trio" not in page.content()
    assert "what's on now" not in page.content()
    stored = page.evaluate("JSON.stringify({...localStorage, ...sessionStorage})")
    assert "what's on" not in stored and "Lumen Trio" not in stored


def test_the_way_back_to_cabin_214_from_this_kiosk(reception_kiosk: KioskClient):
    reception_kiosk.say("how do I get back to cabin 214?")
    reply = reception_kiosk.reply_containing("The deck 2 cabin corridor is on deck 2, midship.")
    assert "1. Go to the midship lift beside Reception." in reply["text"]
    assert "2. Step into the cabin corridor beside the lift." in reply["text"]
    assert "Cabin 214 is along this corridor" in reply["text"]


def test_talk_to_a_person_sends_the_guest_to_reception_then_reaches_the_console_with_the_place(
    ship_stack: Stack, new_page: Callable[[], Page]
):
    kiosk = KioskClient(ship_stack.rasa_url, "lounge-3", "lounge")
    try:
        # Nobody has signed in yet: the guest is sent to the nearest staffed desk, no email asked.
        kiosk.say("/request_human")
        reply = kiosk.reply_containing("Nobody from our team can answer on this screen")
        assert "The crew at Reception can help." in reply["text"]
        assert "2. Take the midship lift down to deck 2." in reply["text"]

        password = ship_stack.create_agent("alice")
        token = ship_stack.log_in("alice", password)
        kiosk.say("/request_human")
        kiosk.reply_containing("in the queue")
        queued = wait_until_queued(ship_stack, token, kiosk.session_id)
        detail = agent_api(ship_stack, token, "GET", f"/api/conversations/{queued['id']}")
        assert (detail["kiosk_id"], detail["kiosk_location"]) == (
            "lounge-3",
            "Lounge (deck 3, forward)",
        )

        # The console shows the kiosk's place first among the facts.
        console = new_page()
        console.goto(f"{ship_stack.handoff_url}/console")
        console.get_by_label("Username").fill("alice")
        console.get_by_label("Password").fill(password)
        console.get_by_role("button", name="Sign in").click()
        console.locator(f'#queued-list .queue-item[data-id="{queued["id"]}"]').click()
        expect(console.locator("#facts dt").first).to_have_text("Kiosk")
        expect(console.locator("#facts dd").first).to_have_text(
            "Lounge (deck 3, forward) · lounge-3"
        )
    finally:
        kiosk.close()


@pytest.mark.parametrize(
    ("question", "heard"),
    [
        ("anything tonight?", "Next: Late-night piano, 23:30 to 00:30, in the Lounge."),
        ("what's next in the lounge?", "Next: Late-night piano"),
        ("where's the medical centre?", "The Medical Centre is on deck 1, aft.\nFrom here:"),
        ("how do I get to cabin 999?", "I don't know a cabin 999 on this ship."),
    ],
)
def test_the_kiosks_questions_reach_the_venue(
    reception_kiosk: KioskClient, question: str, heard: str
):
    reception_kiosk.say(question)
    reception_kiosk.reply_containing(heard)
