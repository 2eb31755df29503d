"""Fixtures of the end-to-end tests: one real stack per test session, an agent, a browser."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from scripts.stack import Stack, running_stack
from tests.e2e.clients import agent_on_duty
from tests.e2e.pages import CHROMIUM, CHROMIUM_ARGS

CSP_VIOLATION = "CSP violation:"
# Runs before the page's own scripts (Playwright injects it outside the page's policy).
REPORT_CSP_VIOLATIONS = f"""
document.addEventListener("securitypolicyviolation", (event) => {{
  console.error(`{CSP_VIOLATION} ${{event.effectiveDirective}} blocked ${{event.blockedURI}}`);
}});
"""

RUNNING: list[Stack] = []


def watched_stack(workdir: Path, **settings: str) -> AbstractContextManager[Stack]:
    """Run a stack whose processes' log goes with the report of a test that fails on it.

    `settings` override variables of its environment, as running_stack's do.
    """
    return watched(running_stack(workdir, **settings))


@contextmanager
def watched(starting: AbstractContextManager[Stack]) -> Iterator[Stack]:
    """Run the stack `starting` starts; its processes' log goes with a failed test's report."""
    with starting as running:
        RUNNING.append(running)
        try:
            yield running
        finally:
            RUNNING.remove(running)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Run the whole assistant for the test session."""
    with watched_stack(tmp_path_factory.mktemp("stack")) as running:
        yield running


# Tight chat limits, so a test reaches them in a few messages.
LIMITED = {"CHAT_LIMIT_PER_SESSION": "3 per minute", "CHAT_LIMIT_PER_ADDRESS": "20 per minute"}


@pytest.fixture(scope="session")
def limited_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Run a second stack whose chat limits are reached in a few messages (LIMITED)."""
    with watched_stack(tmp_path_factory.mktemp("limited"), **LIMITED) as running:
        yield running


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """Attach the end of the processes' log to a failed end-to-end test."""
    report = yield
    if report.failed and RUNNING:
        report.sections.append(("processes' log (last 8000 chars)", RUNNING[-1].log()[-8000:]))
    return report


@pytest.fixture(scope="session")
def agent_token(stack: Stack) -> Iterator[str]:
    with agent_on_duty(stack) as token:
        yield token


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser`")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def csp_violations() -> list[str]:
    """What the pages' Content-Security-Policy blocked; a test that expects some takes them."""
    return []


@pytest.fixture
def new_page(browser: Browser, csp_violations: list[str]) -> Iterator[Callable[[], Page]]:
    """Open pages, each in a fresh browser profile; fail on any script error or CSP violation."""
    contexts = []
    errors: list[str] = []

    def new_page_() -> Page:
        context = browser.new_context(viewport={"width": 1280, "height": 860})
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
        page.on(
            "console",
            lambda message: (
                csp_violations.append(f"{page.url}: {message.text}")
                if message.text.startswith(CSP_VIOLATION)
                else None
            ),
        )
        return page

    yield new_page_
    for context in contexts:
        context.close()
    assert not errors, f"script errors in the pages: {errors}"
    assert not csp_violations, f"the pages broke their Content-Security-Policy: {csp_violations}"
