"""The action server learns taught paraphrases from the handoff server, and survives outages."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from actions import faq_sync
from actions.faq.engine import FaqEngine, Learned
from actions.faq_sync import ParaphraseSync
from actions.handoff_client import HandoffUnavailable

INTERVAL_S = 0.01
WAIT_S = 10


class FakeEngine:
    """Record the batches it is taught, and learn them all."""

    def __init__(self) -> None:
        self.batches: list[list[tuple[str, str]]] = []

    def add_paraphrases(self, paraphrases: Iterable[tuple[str, str]]) -> Learned:
        batch = list(paraphrases)
        self.batches.append(batch)
        return Learned(len(batch), [])

    @property
    def learned(self) -> list[tuple[str, str]]:
        return [pair for batch in self.batches for pair in batch]


class FakeFeed:
    """Serve taught paraphrases like GET /api/faq-paraphrases; be down while `down` is set."""

    def __init__(self) -> None:
        self.paraphrases: list[dict[str, Any]] = []
        self.down = False
        self.calls: list[tuple[int, int]] = []

    def teach(self, faq_id: str, text: str) -> None:
        self.paraphrases.append(
            {"id": 10 * (len(self.paraphrases) + 1), "faq_id": faq_id, "text": text}
        )

    def taught_paraphrases(self, after: int, limit: int) -> list[dict[str, Any]]:
        self.calls.append((after, limit))
        if self.down:
            raise HandoffUnavailable("GET /api/faq-paraphrases failed: connection refused")
        return [item for item in self.paraphrases if item["id"] > after][:limit]


def make_sync(engine: FakeEngine, feed: FakeFeed) -> ParaphraseSync:
    return ParaphraseSync(engine=engine, client=feed, interval_s=INTERVAL_S)  # type: ignore[arg-type]


def wait_for(condition: Callable[[], Any], what: str) -> None:
    """Poll `condition` while the sync thread runs."""
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(INTERVAL_S)


def test_each_poll_learns_only_what_was_taught_since() -> None:
    engine, feed = FakeEngine(), FakeFeed()
    sync = make_sync(engine, feed)
    feed.teach("refund_timeline", "is the dosh back yet")
    feed.teach("wifi", "any hotspot here")

    assert sync.poll() == 2
    feed.teach("dinner_times", "grub o'clock")
    assert sync.poll() == 1
    assert sync.poll() == 0

    assert engine.batches == [
        [("refund_timeline", "is the dosh back yet"), ("wifi", "any hotspot here")],
        [("dinner_times", "grub o'clock")],
    ]
    assert [after for after, _ in feed.calls] == [0, 20, 30]
    assert sync.cursor == 30


def test_a_long_backlog_is_read_page_by_page(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(faq_sync, "PAGE_SIZE", 2)
    engine, feed = FakeEngine(), FakeFeed()
    for number in range(5):
        feed.teach("wifi", f"hotspot {number}")

    assert make_sync(engine, feed).poll() == 5

    assert [len(batch) for batch in engine.batches] == [2, 2, 1]
    assert feed.calls == [(0, 2), (20, 2), (40, 2)]


@pytest.mark.slow
def test_a_paraphrase_taught_to_one_faq_but_now_another_s_is_skipped_and_the_rest_learned(
    built_index_dir, encoder, fixture_kb
) -> None:
    # "does the boat have wifi" is a paraphrase of the wifi FAQ in the data: teaching it to
    # the gym must not take it away from wifi, nor stop what was taught after it.
    engine = FaqEngine(index_dir=built_index_dir, faq_dir=fixture_kb, encoder=encoder)
    feed = FakeFeed()
    feed.teach("gym_hours", "does the boat have wifi")
    feed.teach("refund_timeline", "is the dosh back yet")
    sync = ParaphraseSync(engine=engine, client=feed, interval_s=INTERVAL_S)  # type: ignore[arg-type]

    assert sync.poll() == 1

    assert sync.cursor == 20  # never asked for again
    assert answered_with(engine, "does the boat have wifi") == "wifi"
    assert answered_with(engine, "is the dosh back yet") == "refund_timeline"


def answered_with(engine: FaqEngine, question: str) -> str | None:
    """Return the id of the FAQ the engine answers `question` with on the web, if it answers."""
    decision = engine.decide(question, channel="web")
    return decision.hits[0].faq.id if decision.kind == "answer" else None


def test_a_started_sync_has_learned_everything_taught_before_it_returns() -> None:
    engine, feed = FakeEngine(), FakeFeed()
    feed.teach("refund_timeline", "is the dosh back yet")
    feed.teach("wifi", "any hotspot here")
    sync = make_sync(engine, feed)

    sync.start()
    try:
        learned_at_start = list(engine.learned)
    finally:
        sync.stop()

    # A (re)started action server asks from the beginning, so nothing taught is lost.
    assert feed.calls[0] == (0, faq_sync.PAGE_SIZE)
    assert learned_at_start == [
        ("refund_timeline", "is the dosh back yet"),
        ("wifi", "any hotspot here"),
    ]


def test_the_thread_survives_an_outage_logging_it_once(caplog) -> None:
    engine, feed = FakeEngine(), FakeFeed()
    feed.down = True
    sync = make_sync(engine, feed)

    with caplog.at_level(logging.INFO, logger="actions.faq_sync"):
        sync.start()
        try:
            wait_for(lambda: len(feed.calls) >= 5, "several polls during the outage")
            feed.teach("refund_timeline", "is the dosh back yet")
            feed.down = False
            wait_for(lambda: engine.learned, "the paraphrase taught during the outage")
        finally:
            sync.stop()

    assert engine.learned == [("refund_timeline", "is the dosh back yet")]
    messages = [record.getMessage() for record in caplog.records]
    assert sum("cannot read taught paraphrases" in message for message in messages) == 1
    assert "reading taught paraphrases again" in messages


def test_a_failing_engine_does_not_end_the_thread(caplog) -> None:
    feed = FakeFeed()
    feed.teach("refund_timeline", "is the dosh back yet")
    engine = FakeEngine()
    failures = iter([RuntimeError("no FAQ index"), RuntimeError("no FAQ index")])
    teach = engine.add_paraphrases

    def flaky(paraphrases: Iterable[tuple[str, str]]) -> Learned:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return teach(paraphrases)

    engine.add_paraphrases = flaky  # type: ignore[method-assign]
    sync = make_sync(engine, feed)

    with caplog.at_level(logging.ERROR, logger="actions.faq_sync"):
        sync.start()
        try:
            wait_for(lambda: engine.learned, "the paraphrase once the engine works")
        finally:
            sync.stop()

    assert engine.learned == [("refund_timeline", "is the dosh back yet")]
    assert sync.cursor == 10
    assert len(caplog.records) == 1 and "no FAQ index" in caplog.text
