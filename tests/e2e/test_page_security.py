"""The pages under their security headers, in a real browser against the real stack.

Every browser test fails on a Content-Security-Policy violation (conftest.py's new_page), so
test_pages.py exercises the policy too; these tests show each page works under it, that it
really blocks, and that no site can frame our pages.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, Route, expect

from scripts.stack import Stack
from tests.e2e.pages import answer_of, ask, open_widget

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

INJECTED = "const injected = document.createElement('script');"


def load(page: Page, url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.ok
    policy = response.headers["content-security-policy"]
    assert "'unsafe-inline'" not in policy and "frame-ancestors 'none'" in policy


def test_the_widget_talks_to_rasa_under_the_policy(
    stack: Stack, new_page: Callable[[], Page]
) -> None:
    page = new_page()
    load(page, f"{stack.handoff_url}/")

    open_widget(page)
    ask(page, "wifi password?")

    expect(page.get_by_text(answer_of("wifi_access"))).to_be_visible()


def test_the_kiosk_answers_under_the_policy(stack: Stack, new_page: Callable[[], Page]) -> None:
    page = new_page()
    load(page, f"{stack.handoff_url}/kiosk?kiosk_id=deck1")

    page.get_by_role("button", name="Dining hours").click()

    expect(page.get_by_text(answer_of("dining_hours"))).to_be_visible()


def test_the_console_signs_in_and_goes_live_under_the_policy(
    stack: Stack, new_page: Callable[[], Page]
) -> None:
    password = stack.create_agent("csp-agent")
    page = new_page()
    load(page, f"{stack.handoff_url}/console")

    page.get_by_label("Username").fill("csp-agent")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("status")).to_have_text("Live")


def test_an_injected_inline_script_is_blocked_and_reported(
    stack: Stack, new_page: Callable[[], Page], csp_violations: list[str]
) -> None:
    page = new_page()
    load(page, f"{stack.handoff_url}/console")

    # What markup slipping into a page would do: add a script of its own.
    page.evaluate(
        INJECTED + "injected.textContent = 'window.pwned = true';document.body.append(injected);"
    )
    for _ in range(50):  # the report reaches us as a console message, soon after
        if any("script-src" in violation for violation in csp_violations):
            break
        page.wait_for_timeout(100)

    assert page.evaluate("window.pwned") is None
    assert any("script-src" in violation for violation in csp_violations), csp_violations
    csp_violations.clear()


def test_no_site_can_frame_the_console(stack: Stack, new_page: Callable[[], Page]) -> None:
    page = new_page()
    # set_content returns once the frame has loaded, or been refused.
    page.set_content(f'<iframe src="{stack.handoff_url}/console" title="framed"></iframe>')

    framed = page.frame_locator("iframe[title=framed]")
    expect(framed.locator("#login-form")).to_have_count(0)


def test_the_console_says_how_long_to_wait_after_too_many_failed_sign_ins(
    stack: Stack, new_page: Callable[[], Page]
) -> None:
    # The server's own 429 is tested in tests/handoff_server/test_sign_in_limits.py; here the
    # answer is played back so that the shared stack's address stays free to sign in.
    def too_many(route: Route) -> None:
        route.fulfill(
            status=429,
            headers={"Retry-After": "540", "Content-Type": "application/json"},
            body=json.dumps(
                {
                    "error": "too_many_requests",
                    "message": "too many failed sign-ins from this address; try again later",
                }
            ),
        )

    page = new_page()
    page.route("**/api/auth/token", too_many)
    load(page, f"{stack.handoff_url}/console")

    page.get_by_label("Username").fill("dana")
    page.get_by_label("Password").fill("a guess")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("alert")).to_have_text(
        "Too many failed sign-ins. Please wait 9 minutes, then try again."
    )
