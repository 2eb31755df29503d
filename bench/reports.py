"""How fast supervisors' reports are over a month of conversations: `python -m bench.reports`.

    .venv/bin/python -m bench.reports [--conversations 10000] [--runs 15] [--page-runs 5]
                                      [--screenshots docs/screenshots]

Starts the real gunicorn server alone (scripts/handoff_process.py) on a fresh SQLite file,
seeds it (scripts/seed_reports.py: N handed-off conversations over 30 days, twice as many
served by the bot alone, their FAQ decisions and unanswered questions), then in each run
stores one new handoff (so no cached list is served) and times, over HTTP, the plain list
of resolved conversations (GET /api/conversations, the baseline) and each report's API
call for the default 30 days. In Debian's Chromium it then loads the reports page in fresh
profiles until every chart is drawn, beside the agent console until its queue is live.
Draws reports/bench/reports.html.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import requests
from playwright.sync_api import Browser, Page, ViewportSize, expect, sync_playwright

from bench.pages import shrunk
from bench.report import Chart, Row, format_summary, say, write_report
from handoff_server import accounts
from handoff_server.db import Database, make_engine
from handoff_server.reports import REPORTS
from scripts.handoff_process import HandoffProcess, RasaPushes, running_handoff_server
from scripts.seed_reports import seed
from scripts.stack import REPO_ROOT
from tests.e2e.pages import CHROMIUM, CHROMIUM_ARGS

REPORT = REPO_ROOT / "reports" / "bench" / "reports.html"
DESKTOP = ViewportSize(width=1280, height=900)
LIST = "/api/conversations?state=resolved&limit=100"
PASSWORD = "bench-supervisor-password"
PAGE_TIMEOUT_MS = 60_000


def _timed_get(url: str, headers: dict[str, str]) -> float:
    started = time.perf_counter()
    response = requests.get(url, headers=headers, timeout=60)
    took = (time.perf_counter() - started) * 1000
    response.raise_for_status()
    return took


def _signed_in(browser: Browser, server: HandoffProcess, token: dict[str, object]) -> Page:
    context = browser.new_context(viewport=DESKTOP)
    context.add_init_script(
        f"sessionStorage.setItem('lumen-console:token', {json.dumps(token['token'])});"
        f"sessionStorage.setItem('lumen-console:agent', {json.dumps(json.dumps(token['agent']))});"
    )
    return context.new_page()


def reports_ready(page: Page, server: HandoffProcess) -> None:
    page.goto(f"{server.url}/console/reports")
    expect(page.get_by_role("status").first).to_contain_text("Showing", timeout=PAGE_TIMEOUT_MS)


def console_ready(page: Page, server: HandoffProcess) -> None:
    page.goto(f"{server.url}/console")
    expect(page.locator("#live-status")).to_have_text("Live", timeout=PAGE_TIMEOUT_MS)
    expect(page.locator("#offline-list .queue-item").first).to_be_visible()


def page_times(
    browser: Browser, server: HandoffProcess, token: dict[str, object], ready: object, runs: int
) -> list[float]:
    """Load a page `runs` times in fresh profiles; return the times until it is ready (ms)."""
    times = []
    for _ in range(runs):
        page = _signed_in(browser, server, token)
        started = time.perf_counter()
        ready(page, server)  # type: ignore[operator]
        times.append((time.perf_counter() - started) * 1000)
        page.context.close()
    return times


def main(argv: list[str] | None = None) -> int:
    """Seed, measure and print the figures; draw the HTML report."""
    parser = argparse.ArgumentParser(prog="python -m bench.reports", description=__doc__)
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--page-runs", type=int, default=5)
    parser.add_argument("--screenshots", type=Path, help="directory to save the page's PNG in")
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="bench-reports-") as workdir,
        RasaPushes() as rasa,
        running_handoff_server(Path(workdir), RASA_URL=rasa.url) as server,
    ):
        engine = make_engine(server.database_url)
        db = Database(engine)
        started = time.perf_counter()
        written = seed(db, args.conversations)
        say(f"seeded {written} in {time.perf_counter() - started:.1f} s")
        accounts.create_agent(db, "bench-supervisor", PASSWORD, "supervisor")
        engine.dispose()
        token = requests.post(
            f"{server.url}/api/auth/token",
            json={"username": "bench-supervisor", "password": PASSWORD},
            timeout=10,
        ).json()
        headers = {"Authorization": f"Bearer {token['token']}"}

        list_ms: list[float] = []
        report_ms: dict[str, list[float]] = {report.name: [] for report in REPORTS}
        all_ms: list[float] = []
        for run in range(args.runs + 1):
            server.hand_off(f"bench-run-{run}")  # a change: nothing is served from a cache
            timed_list = _timed_get(f"{server.url}{LIST}", headers)
            timed = {
                report.name: _timed_get(f"{server.url}/api/reports/{report.name}", headers)
                for report in REPORTS
            }
            if run == 0:
                continue  # the first run warms the worker and SQLite's page cache
            list_ms.append(timed_list)
            for name, took in timed.items():
                report_ms[name].append(took)
            all_ms.append(sum(timed.values()))
        say(f"timed the API {args.runs} times")

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            reports_page = page_times(browser, server, token, reports_ready, args.page_runs)
            console_page = page_times(browser, server, token, console_ready, args.page_runs)
            if args.screenshots:
                page = _signed_in(browser, server, token)
                page.set_viewport_size(ViewportSize(width=1280, height=2330))
                reports_ready(page, server)
                path = shrunk(page, args.screenshots / "reports.png")
                say(f"saved {path}")
            browser.close()

    list_median = statistics.median(list_ms)
    rows = [Row("plain list: GET /api/conversations (100 resolved)", list_median, "ms")]
    rows += [
        Row(f"report {name}", statistics.median(times), "ms", baseline=list_median)
        for name, times in report_ms.items()
    ]
    rows += [
        Row("all 8 reports, one after another", statistics.median(all_ms), "ms", list_median),
        Row(
            "reports page ready in Chromium",
            statistics.median(reports_page),
            "ms",
            baseline=statistics.median(console_page),
            note="baseline: the agent console, live with its lists",
        ),
    ]
    print(
        f"{written['conversations']} handed-off conversations, {written['faq_decisions']} FAQ "
        f"decisions, {written['unanswered_questions']} unanswered questions; medians of "
        f"{args.runs} runs (API) and {args.page_runs} fresh profiles (pages), loopback"
    )
    print(format_summary(rows))
    chart = Chart(
        "Median time per request over the stored month",
        {
            "median (ms)": [statistics.median(list_ms)]
            + [statistics.median(t) for t in report_ms.values()]
        },
        categories=["list (baseline)", *report_ms],
        kind="bar",
        xlabel="request",
        ylabel="ms",
        caption="Each report is one or two SQL aggregates over 30 days; the baseline is the "
        "console's plain list of 100 conversations, timed in the same runs.",
    )
    notes = [
        f"Seeded {written}; the server is the project's gunicorn (one gevent worker), SQLite.",
        "Each run first stores a new handoff, so the list is not served from its cache.",
    ]
    path = write_report(REPORT, "Reports over a month of conversations", rows, [chart], notes)
    print(f"    report: {path.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
