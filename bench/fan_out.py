"""Measure how fast a change reaches agents' streams on other hosts: `python -m bench.fan_out`.

It starts two handoff servers of HANDOFF_WORKERS=4 each (scripts/handoff_process.py) on one
PostgreSQL schema of their own and Redis as the event bus, as two hosts of one deployment,
with keepalives every 60 s so that only the bus can wake a stream in time. An agent posts
notes one after another; each note's latency runs from its request being sent to its event
read from a stream. The figure is for a stream on the other host; the baseline, measured in
the same run, is a one-worker server whose stream and writes share the worker (the
in-process signal, as `make run` has it).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path

import requests

from bench.report import Row, format_summary, say
from bench.stats import percentile
from scripts.handoff_process import (
    EventStream,
    HandoffProcess,
    postgres_schema,
    running_handoff_server,
)

EVENTS = 200
KEEPALIVE_S = "60"
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://root@127.0.0.1:5432/test")
EVENT_BUS_URL = os.environ.get("BENCH_EVENT_BUS_URL", "redis://127.0.0.1:6379/9")


def _read_notes(stream: EventStream, count: int, arrivals: dict[str, float]) -> None:
    for _ in range(count):
        text = str(stream.next_event("note")["text"])
        arrivals[text] = time.monotonic()


def _latencies(
    stream_host: HandoffProcess,
    write_host: HandoffProcess,
    agent: dict[str, str],
    conversation_id: int,
    events: int,
    label: str,
) -> list[float]:
    """Post `events` notes through `write_host`, one after another's arrival; return how long
    each took to reach a stream held on `stream_host`."""
    response = requests.get(
        f"{stream_host.url}/api/stream", headers=agent, stream=True, timeout=(5, 120)
    )
    stream = EventStream(response)
    stream.next_block()  # the retry hint: the stream is open
    arrivals: dict[str, float] = {}
    reader = threading.Thread(target=_read_notes, args=(stream, events, arrivals))
    reader.start()
    latencies = []
    url = f"{write_host.url}/api/conversations/{conversation_id}/notes"
    for number in range(events):
        text = f"{label} {number}"
        sent = time.monotonic()
        requests.post(url, json={"text": text}, headers=agent, timeout=10).raise_for_status()
        while text not in arrivals:
            if time.monotonic() - sent > 30:
                raise RuntimeError(f"{text!r} never reached the stream")
            time.sleep(0.0005)
        latencies.append(arrivals[text] - sent)
    reader.join()
    response.close()
    return latencies


def main(argv: list[str] | None = None) -> int:
    """Run the measurement and print its figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.fan_out")
    parser.add_argument("--events", type=int, default=EVENTS, help="notes posted per figure")
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory() as workdir,
        postgres_schema(POSTGRES_URL) as database_url,
    ):
        shared = {"DATABASE_URL": database_url, "SSE_KEEPALIVE_S": KEEPALIVE_S}
        shared["SECRET_KEY"] = shared["HANDOFF_SERVICE_TOKEN"] = os.urandom(16).hex()
        scaled = {**shared, "HANDOFF_WORKERS": "4", "EVENT_BUS_URL": EVENT_BUS_URL}
        with (
            running_handoff_server(Path(workdir, "one"), **shared, HANDOFF_WORKERS="1") as one,
            running_handoff_server(Path(workdir, "east"), **scaled) as east,
            running_handoff_server(Path(workdir, "west"), **scaled) as west,
        ):
            agent = one.agent_headers("bench-agent")
            conversation_id = int(one.hand_off("bench")["id"])
            say(f"{args.events} notes on one worker (the baseline)")
            same_worker = _latencies(one, one, agent, conversation_id, args.events, "same")
            say(f"{args.events} notes written on one host, streamed from the other")
            across = _latencies(east, west, agent, conversation_id, args.events, "across")

    rows = []
    for quantile in (50, 95):
        rows.append(
            Row(
                f"note to a stream on another host, p{quantile}",
                percentile(across, quantile) * 1000,
                "ms",
                baseline=percentile(same_worker, quantile) * 1000,
                note="baseline: stream and write on one worker",
            )
        )
    rows.append(
        Row("slowest across hosts", max(across) * 1000, "ms", baseline=max(same_worker) * 1000)
    )
    print(format_summary(rows))
    print(f"keepalive {KEEPALIVE_S} s: without the event bus a stream hears another host's change")
    print("only at its keepalive (15 s by default)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
