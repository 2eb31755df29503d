"""Fixtures of the end-to-end tests: one real stack per test session, and an agent."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.stack import Stack, running_stack

RUNNING: list[Stack] = []


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Run the whole assistant for the test session."""
    with running_stack(tmp_path_factory.mktemp("stack")) as running:
        RUNNING.append(running)
        yield running
        RUNNING.remove(running)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """Attach the end of the processes' log to a failed end-to-end test."""
    report = yield
    if report.failed and RUNNING:
        report.sections.append(("processes' log (last 8000 chars)", RUNNING[0].log()[-8000:]))
    return report


@pytest.fixture(scope="session")
def agent_token(stack: Stack) -> str:
    """Create an agent account through the CLI and log in as that agent."""
    return stack.log_in("alice", stack.create_agent("alice"))
