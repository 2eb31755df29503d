"""What the browser tests share: Debian's Chromium and how a customer uses the chat."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.faqs import faq

# Debian's Chromium (`make browser`), never a browser Playwright downloads.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPLY_TIMEOUT_MS = 30_000
# axe-core, from npm at setup (make setup).
AXE = Path(__file__).with_name("vendor") / "axe.min.js"
HOSTILE_TEXT = "<b>bold</b><img src=x onerror=alert(1)>"

expect.set_options(timeout=REPLY_TIMEOUT_MS)


def answer_of(faq_id: str) -> str:
    return str(faq(faq_id).answer).strip()


def ask(page: Page, text: str) -> None:
    """Type a message in the chat and press Enter, as a customer does."""
    page.get_by_label("Your message").fill(text)
    page.get_by_label("Your message").press("Enter")


def open_widget(page: Page) -> None:
    page.get_by_role("button", name=re.compile("^Chat with Lumen River Cruises")).click()
    expect(page.get_by_role("dialog", name="Lumen River Cruises")).to_be_visible()
    expect(page.get_by_label("Your message")).to_be_focused()


def asks_a_question_then_for_a_person(page: Page, site_url: str) -> str:
    """On the website, ask the wifi FAQ, see its answer, then ask for a person and see the
    queue; return the widget's session id (its Rasa sender)."""
    page.goto(f"{site_url}/")
    open_widget(page)
    ask(page, "wifi password?")
    expect(page.get_by_text(answer_of("wifi_access"))).to_be_visible()
    ask(page, "I want to talk to a person")
    expect(page.get_by_text(re.compile("queue"))).to_be_visible()
    return str(page.evaluate("localStorage.getItem('lumen-chat:session')"))


def signed_in(page: Page, token: dict[str, Any]) -> Page:
    """Give the page's tab the console session the sign-in form would have stored."""
    page.add_init_script(
        f"sessionStorage.setItem('lumen-console:token', {json.dumps(token['token'])});"
        f"sessionStorage.setItem('lumen-console:agent', {json.dumps(json.dumps(token['agent']))});"
    )
    return page


def serious_accessibility_problems(page: Page) -> list[str]:
    """Run axe-core in the page; return its serious and critical violations.

    axe-core adds style elements of its own: the page's context must bypass its CSP.
    """
    # evaluate() runs outside the page's Content-Security-Policy; a <script> tag would not.
    page.evaluate(AXE.read_text())
    violations = page.evaluate("axe.run(document).then(result => result.violations)")
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} "
        f"at {[node['target'] for node in violation['nodes']]}"
        for violation in violations
        if violation["impact"] in ("serious", "critical")
    ]
