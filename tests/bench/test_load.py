"""The SSE parser and the figures of a load run, without a server."""

from __future__ import annotations

import pytest

from bench.load import LoadRun, Sample, SseEvent, SseParser, event_field
from handoff_server.event_log import format_sse


def feed(lines: list[str]) -> list[SseEvent]:
    parser = SseParser()
    return [event for line in lines if (event := parser.feed(line)) is not None]


def test_parser_assembles_events_as_the_handoff_server_formats_them():
    text = "retry: 3000\n\n" + ": keepalive\n\n" + format_sse({"a": 1}, event="message", id=7)
    text += format_sse("two\nlines", event="note", id=8)

    events = feed(text.split("\n"))

    assert events == [SseEvent("message", '{"a":1}', "7"), SseEvent("note", "two\nlines", "8")]
    assert event_field(events[0], "a") == 1
    assert event_field(events[1], "a") is None


def test_a_run_counts_latency_from_the_intended_time_and_errors_apart():
    run = LoadRun(
        [
            Sample("healthz", intended=1.0, started=1.002, done=1.010, status=200),
            Sample("healthz", intended=1.005, started=1.005, done=1.5, status=503),
            Sample("detail", intended=1.010, started=1.010, done=1.030, status=200),
        ],
        wall_s=2.0,
    )

    assert run.latencies_ms() == pytest.approx([10.0, 20.0])
    assert run.latencies_ms("detail") == pytest.approx([20.0])
    assert run.samples[0].lag_ms == pytest.approx(2.0)
    assert (run.errors, run.achieved_rate) == (1, 1.0)
