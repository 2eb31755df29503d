"""Measure what a locked database does to the handoff server: `python -m bench.db_lock`.

It starts the real gunicorn server alone (scripts/handoff_process.py) and holds its SQLite
file locked from another process for 20 s. Meanwhile /healthz is polled back to back, an
agent's event stream stays open (a keepalive every 0.2 s) and the agent posts a reply every
2 s, as a busy console would. It prints how long /healthz and the stream went unanswered
during the lock, and how each reply was answered and how fast. The issue's target: nothing
else stalls for more than a second while a write waits.
"""

from __future__ import annotations

import argparse
import collections
import itertools
import tempfile
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import requests

from bench.report import Row, format_summary, say
from bench.stats import percentile
from scripts.handoff_process import EventStream, RasaPushes, running_handoff_server
from scripts.sqlite_lock import held_lock

LOCK_S = 20.0
REPLY_EVERY_S = 2.0
KEEPALIVE_S = 0.2
STALL_TARGET_S = 1.0


def _poll_healthz(url: str, stop: threading.Event, waits: list[tuple[float, float]]) -> None:
    while not stop.is_set():
        sent = time.monotonic()
        requests.get(f"{url}/healthz", timeout=60)
        waits.append((sent, time.monotonic() - sent))


def _read_stream(stream: EventStream, arrivals: list[float]) -> None:
    try:
        while True:
            stream.next_block()
            arrivals.append(time.monotonic())
    except (EOFError, requests.RequestException, AttributeError):
        return  # closed at the end of the run (AttributeError: urllib3 closing under a read)


def _post_reply(url: str, headers: dict[str, str], number: int) -> tuple[int, float]:
    started = time.monotonic()
    response = requests.post(
        url, json={"text": f"Reply {number}", "idempotency_key": f"bench-{number}"},
        headers=headers, timeout=60,
    )  # fmt: skip
    return response.status_code, time.monotonic() - started


def _longest_silence(arrivals: list[float], start: float, end: float) -> float:
    """Return the longest gap between two stream blocks that overlaps `start`..`end`."""
    return max(
        later - earlier
        for earlier, later in itertools.pairwise(arrivals)
        if later > start and earlier < end
    )


def main(argv: list[str] | None = None) -> int:
    """Run the measurement and print its figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.db_lock")
    parser.add_argument("--lock-s", type=float, default=LOCK_S, help="how long the lock is held")
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory() as workdir,
        RasaPushes() as rasa,
        running_handoff_server(
            Path(workdir), RASA_URL=rasa.url, SSE_KEEPALIVE_S=str(KEEPALIVE_S)
        ) as server,
    ):
        agent = server.agent_headers("bench-agent")
        conversation_url = f"{server.url}/api/conversations/{server.hand_off('bench')['id']}"
        requests.post(f"{conversation_url}/claim", headers=agent, timeout=10).raise_for_status()
        stream_response = requests.get(
            f"{server.url}/api/stream", headers=agent, stream=True, timeout=(5, 120)
        )
        stop = threading.Event()
        healthz_waits: list[tuple[float, float]] = []
        arrivals: list[float] = []
        readers = [
            threading.Thread(target=_poll_healthz, args=(server.url, stop, healthz_waits)),
            threading.Thread(target=_read_stream, args=(EventStream(stream_response), arrivals)),
        ]
        for reader in readers:
            reader.start()
        replies: list[Future[tuple[int, float]]] = []
        say(f"holding the database locked for {args.lock_s:.0f} s")
        with (
            held_lock(server.database_path, max_s=args.lock_s + 30),
            ThreadPoolExecutor(16) as pool,
        ):
            locked_at = time.monotonic()
            for number in range(int(args.lock_s / REPLY_EVERY_S)):
                time.sleep(max(0.0, locked_at + number * REPLY_EVERY_S - time.monotonic()))
                replies.append(
                    pool.submit(_post_reply, f"{conversation_url}/messages", agent, number)
                )
            time.sleep(max(0.0, locked_at + args.lock_s - time.monotonic()))
            released_at = time.monotonic()
            answers = [reply.result() for reply in replies]
        say("lock released")
        # Let the stream show whether it comes back, then stop the readers.
        time.sleep(1.0)
        stop.set()
        stream_response.close()
        for reader in readers:
            reader.join(timeout=60)

    during = [wait for sent, wait in healthz_waits if locked_at <= sent < released_at]
    statuses = collections.Counter(status for status, _ in answers)
    refused = [latency for status, latency in answers if status == 503]
    rows = [
        Row(
            "/healthz longest wait during the lock",
            max(during) * 1000,
            "ms",
            target=STALL_TARGET_S * 1000,
        ),
        Row("/healthz median wait during the lock", percentile(during, 50) * 1000, "ms"),
        Row(
            "event stream longest silence",
            _longest_silence(arrivals, locked_at, released_at) * 1000,
            "ms",
            target=STALL_TARGET_S * 1000,
            note=f"a keepalive every {KEEPALIVE_S} s",
        ),
        Row("replies posted during the lock", len(answers), "req", note=str(dict(statuses))),
    ]
    if refused:
        rows += [
            Row("503 latency median", percentile(refused, 50), "s"),
            Row("503 latency longest", max(refused), "s"),
        ]
    print(format_summary(rows))
    print(f"healthz polls answered during the lock: {len(during)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
