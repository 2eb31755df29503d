"""How fast the kiosk and the widget load, and how much they transfer, in Debian's Chromium.

    .venv/bin/python -m bench.pages [--runs 5] [--screenshots docs/screenshots]

Each run is a fresh browser profile (a cold cache, as a kiosk after a restart or a
visitor's first page), on loopback against a private stack. "Ready" is when the page can
be used: the kiosk shows its greeting and quick questions, the widget's launcher is on
screen. Transferred bytes are the page's own requests (HTML, scripts, styles, logo, JSON),
socket.io's traffic left out. With --screenshots, also saves PNGs of the widget on a
desktop and a 320 px phone and of the kiosk in portrait, for the README.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image  # Pillow comes with matplotlib (requirements/dev.txt)
from playwright.sync_api import Browser, Page, ViewportSize, expect, sync_playwright

from scripts.stack import Stack, running_stack
from tests.e2e.pages import CHROMIUM, CHROMIUM_ARGS

DESKTOP = ViewportSize(width=1280, height=800)
PHONE = ViewportSize(width=320, height=568)
KIOSK_PORTRAIT = ViewportSize(width=1080, height=1920)
# Screenshots go into git: a palette of this many colours keeps each under ~100 KB.
SCREENSHOT_COLOURS = 64
# Every resource of the page but the chat's socket (its polling requests are not the page).
TRANSFERRED = """
performance.getEntriesByType("navigation").concat(performance.getEntriesByType("resource"))
  .filter(entry => !entry.name.includes("/socket.io/"))
  .reduce((total, entry) => total + entry.transferSize, 0)
"""


def kiosk_ready(page: Page, stack: Stack) -> None:
    page.goto(f"{stack.handoff_url}/kiosk?kiosk_id=reception-2")
    expect(page.locator(".kiosk-quick-button").first).to_be_visible()
    expect(page.locator(".lrc-msg--bot").first).to_be_visible()


def widget_ready(page: Page, stack: Stack) -> None:
    page.goto(f"{stack.handoff_url}/")
    expect(page.locator("lumen-chat-widget .lrc-launcher")).to_be_visible()


def measure(
    browser: Browser, stack: Stack, ready: Callable[[Page, Stack], None], runs: int
) -> tuple[list[float], list[int]]:
    """Load a page `runs` times in fresh profiles; return ready times (ms) and bytes."""
    times, sizes = [], []
    for _ in range(runs):
        context = browser.new_context(viewport=DESKTOP)
        page = context.new_page()
        started = time.perf_counter()
        ready(page, stack)
        times.append((time.perf_counter() - started) * 1000)
        page.wait_for_load_state("networkidle")
        sizes.append(int(page.evaluate(TRANSFERRED)))
        context.close()
    return times, sizes


def save_screenshots(browser: Browser, stack: Stack, directory: Path) -> list[Path]:
    """Save the widget (desktop, phone) and the kiosk (portrait) with an answer on screen."""
    directory.mkdir(parents=True, exist_ok=True)
    saved = []
    for name, viewport in (("widget-desktop", DESKTOP), ("widget-phone-320", PHONE)):
        context = browser.new_context(viewport=viewport, has_touch=viewport is PHONE)
        page = context.new_page()
        widget_ready(page, stack)
        page.locator("lumen-chat-widget .lrc-launcher").click()
        page.get_by_label("Your message").fill("wifi password?")
        page.get_by_label("Your message").press("Enter")
        expect(page.locator(".lrc-chip").first).to_be_visible()
        saved.append(shrunk(page, directory / f"{name}.png"))
        context.close()
    context = browser.new_context(viewport=KIOSK_PORTRAIT)
    page = context.new_page()
    kiosk_ready(page, stack)
    page.get_by_role("button", name="Dining hours").click()
    expect(page.locator(".lrc-msg--bot")).to_have_count(2)
    saved.append(shrunk(page, directory / "kiosk-portrait.png"))
    context.close()
    return saved


def shrunk(page: Page, path: Path) -> Path:
    """Save a screenshot of `page` at `path` as a small palette PNG."""
    page.screenshot(path=path)
    Image.open(path).quantize(SCREENSHOT_COLOURS).save(path, optimize=True)
    return path


def main(argv: list[str] | None = None) -> int:
    """Measure the pages and print the figures; optionally save screenshots."""
    parser = argparse.ArgumentParser(prog="python -m bench.pages", description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--screenshots", type=Path, help="directory to save PNGs in")
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="bench-pages-") as workdir,
        running_stack(Path(workdir)) as stack,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        print(f"Page loads in fresh profiles, {args.runs} runs each (loopback, cold cache)")
        for name, ready in (("kiosk", kiosk_ready), ("widget on the demo site", widget_ready)):
            times, sizes = measure(browser, stack, ready, args.runs)
            print(
                f"  {name:<24} ready in median {statistics.median(times):6.0f} ms "
                f"(max {max(times):.0f}), {statistics.median(sizes) / 1024:6.1f} KiB transferred"
            )
        if args.screenshots:
            for path in save_screenshots(browser, stack, args.screenshots):
                print(f"  saved {path} ({path.stat().st_size / 1024:.0f} KiB)")
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
