"""How fast the agent console loads and how much memory it holds with a full day's lists.

    .venv/bin/python -m bench.console [--runs 5] [--conversations 200] [--screenshots DIR]

One handoff server (gunicorn, SQLite, a stand-in for Rasa that accepts its pushes) on
loopback; Debian's Chromium, a fresh profile each run, signed in as an agent. "Ready" is
when the console shows every conversation of its three lists and its event stream is live.
The JS heap is Chromium's own count (CDP Runtime.getHeapUsage) after a garbage collection.
The baseline is the same console on the same server with empty lists, measured first in
the same run; then the lists are filled through the API as the action server and agents
fill them: waiting (spread over the last five minutes, so some are over the wait limit),
in progress with colleagues, and messages left. With --screenshots, also saves the queue
and a conversation for the README.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import requests
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, ViewportSize, expect, sync_playwright

from bench.pages import shrunk
from handoff_server import accounts
from handoff_server.db import Database, conversations, make_engine
from scripts.handoff_process import HandoffProcess, RasaPushes, running_handoff_server
from tests.e2e.pages import CHROMIUM, CHROMIUM_ARGS

DESKTOP = ViewportSize(width=1280, height=860)
PASSWORD = "bench-console-password"
AGENT = {"username": "dana", "name": "Dana", "role": "agent", "team": "general"}
COLLEAGUES = ("eli", "fay", "gus")
NAMES = ("Maria Lopez", "Tom Becker", "Aiko Tanaka", "Priya Nair", "Jonas Berg", None)
WAITING_SPREAD_S = 300
CANNED = {"shortcut": "welcome", "text": "Hello {customer_name}, I'm {agent_name}. Let me look."}


@dataclass(frozen=True)
class Lists:
    """How many conversations each of the console's lists shows."""

    queued: int
    assigned: int
    offline: int

    @property
    def total(self) -> int:
        return self.queued + self.assigned + self.offline


def open_console(browser: Browser, server: HandoffProcess, token: str, lists: Lists) -> Page:
    """Open the console signed in (as a reload does) and wait until every list is drawn."""
    context = browser.new_context(viewport=DESKTOP)
    context.add_init_script(
        f"sessionStorage.setItem('lumen-console:token', {json.dumps(token)});"
        f"sessionStorage.setItem('lumen-console:agent', {json.dumps(json.dumps(AGENT))});"
    )
    page = context.new_page()
    page.goto(f"{server.url}/console")
    expect(page.get_by_role("status")).to_have_text("Live")
    for state, count in (("queued", lists.queued), ("assigned", lists.assigned)):
        expect(page.locator(f"#{state}-count")).to_have_text(str(count))
    expect(page.locator(".queue-item")).to_have_count(lists.total)
    return page


def measure(
    browser: Browser, server: HandoffProcess, token: str, lists: Lists, runs: int
) -> tuple[list[float], list[float], list[int]]:
    """Load the console `runs` times; return ready times (ms), JS heaps (MiB), DOM nodes."""
    times, heaps, nodes = [], [], []
    for _ in range(runs):
        started = time.perf_counter()
        page = open_console(browser, server, token, lists)
        times.append((time.perf_counter() - started) * 1000)
        cdp = page.context.new_cdp_session(page)
        cdp.send("HeapProfiler.collectGarbage")
        heaps.append(cdp.send("Runtime.getHeapUsage")["usedSize"] / 2**20)
        nodes.append(int(page.evaluate("document.getElementsByTagName('*').length")))
        page.context.close()
    return times, heaps, nodes


def seed(server: HandoffProcess, count: int) -> Lists:
    """Fill the lists through the API: 60 % waiting, 30 % with colleagues, 10 % messages left."""
    service = server.service_headers
    colleagues = [server.agent_headers(username) for username in COLLEAGUES]
    waiting, with_colleagues = count * 6 // 10, count * 3 // 10
    left = count - waiting - with_colleagues
    session = requests.Session()
    ids = []
    for number in range(count):
        name = NAMES[number % len(NAMES)]
        body = {
            "sender_id": f"bench-{number}",
            "channel": "kiosk" if number % 4 == 0 else "web",
            "kiosk_id": "reception-2" if number % 4 == 0 else None,
            "kiosk_location": "Reception, deck 2" if number % 4 == 0 else None,
            "reason": ("customer_request", "repeated_misses", "frustration")[number % 3],
            "customer": {"name": name},
            "summary": "Asked about a refund for a cancelled excursion; wants a person.",
            "tags": ["refunds"] if number % 5 == 0 else [],
            "transcript": [
                {"role": "customer", "text": "My excursion was cancelled, when is my refund?"},
                {"role": "bot", "text": "Refunds reach your card within 5 to 7 working days."},
                {"role": "customer", "text": "I want to talk to a person"},
            ],
        }
        response = session.post(f"{server.url}/api/handoffs", json=body, headers=service)
        response.raise_for_status()
        ids.append(response.json()["id"])
    for number, conversation_id in enumerate(ids[waiting : waiting + with_colleagues]):
        session.post(
            f"{server.url}/api/conversations/{conversation_id}/claim",
            headers=colleagues[number % len(colleagues)],
        ).raise_for_status()
    for conversation_id in ids[waiting + with_colleagues :]:
        session.post(
            f"{server.url}/api/conversations/{conversation_id}/offline-message",
            json={"contact": "guest@example.com", "text": "Please email me about my refund."},
            headers=service,
        ).raise_for_status()
    # The waiting arrived over the last five minutes: some are past the wait limit.
    engine = make_engine(server.database_url)
    with engine.begin() as conn:
        for number, conversation_id in enumerate(ids[:waiting]):
            conn.execute(
                sa.update(conversations)
                .where(conversations.c.id == conversation_id)
                .values(created_at=time.time() - WAITING_SPREAD_S * (waiting - number) / waiting)
            )
    engine.dispose()
    return Lists(waiting, with_colleagues, left)


def save_screenshots(
    browser: Browser, server: HandoffProcess, token: str, lists: Lists, directory: Path
) -> list[Path]:
    """Save the queue, and a conversation Dana holds with a canned response being chosen."""
    directory.mkdir(parents=True, exist_ok=True)
    headers = {"Authorization": f"Bearer {token}"}
    queued = requests.get(f"{server.url}/api/conversations?state=queued", headers=headers).json()
    first = queued["conversations"][0]["id"]
    page = open_console(browser, server, token, lists)
    saved = [shrunk(page, directory / "console-queue.png")]
    page.locator(f'.queue-item[data-id="{first}"]').click()
    expect(page.locator("#conversation-title")).not_to_be_empty()
    page.keyboard.press("Alt+c")
    expect(page.locator("#conversation-state")).to_have_text("assigned")
    page.get_by_label("Message to the customer").press_sequentially("/wel")
    expect(page.get_by_role("listbox", name="Canned responses")).to_be_visible()
    saved.append(shrunk(page, directory / "console-conversation.png"))
    page.context.close()
    return saved


def sign_in(server: HandoffProcess, username: str, role: str) -> str:
    """Create an account with `role` and return its bearer token."""
    engine = make_engine(server.database_url)
    accounts.create_agent(Database(engine), username, PASSWORD, role, display_name=username.title())
    engine.dispose()
    response = requests.post(
        f"{server.url}/api/auth/token",
        json={"username": username, "password": PASSWORD},
        timeout=10,
    )
    response.raise_for_status()
    return str(response.json()["token"])


def report(label: str, figures: tuple[list[float], list[float], list[int]]) -> None:
    times, heaps, nodes = figures
    print(
        f"  {label:<34} ready in median {statistics.median(times):5.0f} ms "
        f"(max {max(times):.0f}), JS heap {statistics.median(heaps):5.1f} MiB, "
        f"{statistics.median(nodes):.0f} elements"
    )


def main(argv: list[str] | None = None) -> int:
    """Measure the console empty, then with the lists full; print both."""
    parser = argparse.ArgumentParser(prog="python -m bench.console", description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--screenshots", type=Path, help="directory to save PNGs in")
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="bench-console-") as workdir,
        RasaPushes() as rasa,
        running_handoff_server(Path(workdir), RASA_URL=rasa.url) as server,
        sync_playwright() as playwright,
    ):
        token = sign_in(server, AGENT["username"], "agent")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        print(f"Agent console loads in fresh profiles, {args.runs} runs each (loopback)")
        report("empty lists (baseline)", measure(browser, server, token, Lists(0, 0, 0), args.runs))
        lists = seed(server, args.conversations)
        label = f"{lists.total} conversations in the lists"
        report(label, measure(browser, server, token, lists, args.runs))
        if args.screenshots:
            supervisor = {"Authorization": f"Bearer {sign_in(server, 'sam', 'supervisor')}"}
            requests.post(
                f"{server.url}/api/canned-responses", json=CANNED, headers=supervisor, timeout=10
            ).raise_for_status()
            for path in save_screenshots(browser, server, token, lists, args.screenshots):
                print(f"  saved {path} ({path.stat().st_size / 1024:.0f} KiB)")
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
