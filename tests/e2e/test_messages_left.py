"""Answering the messages customers left while nobody was on duty, in the real console
(Chromium): by email through a real SMTP server, or by recording a phone call."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Page, expect

from handoff_server import accounts
from handoff_server.db import Database, make_engine
from scripts.handoff_process import HandoffProcess, running_handoff_server
from tests.smtp_inbox import Inbox, running_inbox

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def inbox() -> Iterator[Inbox]:
    with running_inbox() as inbox:
        yield inbox


@pytest.fixture(scope="module")
def server(inbox: Inbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HandoffProcess]:
    with running_handoff_server(
        tmp_path_factory.mktemp("messages-left"),
        SMTP_URL=inbox.url,
        SMTP_FROM="crew@lumen-river.example",
    ) as server:
        yield server


def leave_message(server: HandoffProcess, contact: str) -> None:
    """Hand a conversation off and leave a message on it, as the action server does."""
    conversation = server.hand_off(f"guest-{secrets.token_hex(4)}")
    response = requests.post(
        f"{server.url}/api/conversations/{conversation['id']}/offline-message",
        json={"contact": contact, "text": "Can I bring my folding bike on board?"},
        headers=server.service_headers,
        timeout=10,
    )
    response.raise_for_status()


def signed_in(page: Page, server: HandoffProcess) -> Page:
    password = secrets.token_urlsafe(12)
    engine = make_engine(server.database_url)
    accounts.create_agent(Database(engine), "nadia", password, "agent", display_name="Nadia")
    engine.dispose()
    page.goto(f"{server.url}/console")
    page.get_by_label("Username").fill("nadia")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("status")).to_have_text("Live")
    return page


def test_an_agent_answers_one_message_by_email_and_records_a_call_for_the_other(
    server: HandoffProcess, inbox: Inbox, new_page: Callable[[], Page], tmp_path: Path
) -> None:
    leave_message(server, "maria@example.com")
    leave_message(server, "+44 20 7946 0958")
    page = signed_in(new_page(), server)
    left = page.locator("#offline-list li")
    expect(left).to_have_count(2)

    left.filter(has_text="maria@example.com").first.click()
    expect(page.locator("#reply-hint")).to_contain_text("goes by email to maria@example.com")
    page.locator("#reply-text").fill("Yes, <b>folding bikes</b> travel free.")
    page.get_by_role("button", name="Send by email").click()
    expect(page.locator("#conversation-state")).to_have_text("resolved")
    [email] = inbox.messages
    assert email["To"] == "maria@example.com"
    assert "Yes, <b>folding bikes</b> travel free." in email.get_payload()
    # The answer is shown as the text it is, never as markup.
    expect(page.locator("#transcript")).to_contain_text("Yes, <b>folding bikes</b> travel free.")

    left.filter(has_text="+44 20 7946 0958").first.click()
    expect(page.locator("#reply-hint")).to_contain_text("call +44 20 7946 0958")
    page.locator("#reply-text").fill("Called her: folding bikes travel free.")
    page.get_by_role("button", name="Record the call").click()
    expect(page.locator("#conversation-state")).to_have_text("resolved")
    expect(page.locator("#transcript")).to_contain_text("Answered by phone at +44 20 7946 0958")
    assert len(inbox.messages) == 1  # a phone number gets no email
