"""Latency of the kiosk's venue answers beside a plain FAQ answer, in the same run.

One private stack, its schedule read at a fixed time (VENUE_NOW); turns over REST, one at a
time, each the first message of a new conversation, in turn: "what's on now?" and a route from
a kiosk, and a plain FAQ question from the website (the baseline).
Run: `.venv/bin/python -m bench.kiosk` (or `make bench`).
"""

from __future__ import annotations

import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import requests

from bench.report import say
from bench.stats import summarize
from scripts.stack import running_stack

TURNS = 30
WARM_UP = 3
KIOSK = {"channel": "kiosk", "kiosk_id": "lounge-3", "kiosk_place": "lounge"}
WEBSITE = {"channel": "web", "page_url": "https://lumen-river.example/faq"}
# (label, text, metadata, a fragment of the expected reply)
KINDS = [
    ("what's on now (kiosk)", "what's on now?", KIOSK, "On now:"),
    ("route to cabin 214 (kiosk)", "how do I get back to cabin 214?", KIOSK, "From here:"),
    ("plain FAQ answer (web)", "How do I connect to the wifi?", WEBSITE, "Lumen-Guest"),
]


def turn(rasa_url: str, text: str, metadata: dict[str, Any], expected: str) -> float:
    """Send a new conversation's first message; return the seconds until the whole reply."""
    started = time.perf_counter()
    response = requests.post(
        f"{rasa_url}/webhooks/rest/webhook",
        json={"sender": uuid.uuid4().hex, "message": text, "metadata": metadata},
        timeout=60,
    )
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    replies = " ".join(reply.get("text", "") for reply in response.json())
    if expected.lower() not in replies.lower():
        raise RuntimeError(f"{text!r} answered {replies!r}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    """Time each kind of turn, interleaved, and print the percentiles side by side."""
    say("starting a private stack with VENUE_NOW=2026-12-01T21:45")
    with (
        tempfile.TemporaryDirectory(prefix="bench-kiosk-") as workdir,
        running_stack(Path(workdir), VENUE_NOW="2026-12-01T21:45") as stack,
    ):
        for _, text, metadata, expected in KINDS * WARM_UP:
            turn(stack.rasa_url, text, metadata, expected)
        samples: dict[str, list[float]] = {label: [] for label, *_ in KINDS}
        for _ in range(TURNS):
            for label, text, metadata, expected in KINDS:
                samples[label].append(turn(stack.rasa_url, text, metadata, expected))
    print(f"{'turn':<30} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for label, values in samples.items():
        summary = summarize([1000 * value for value in values])
        print(
            f"{label:<30} {summary.count:>4} {summary.p50:>8.0f} {summary.p95:>8.0f} "
            f"{summary.max:>8.0f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
