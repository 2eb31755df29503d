"""Load clients: an open-loop HTTP load at a constant arrival rate, and many held SSE streams.

Why asyncio and aiohttp rather than wrk: the load must be open-loop (a request is due at its
scheduled time whether or not earlier ones have answered) and its latency counted from that
time, so a server that queues cannot hide it by slowing the client down (coordinated
omission). Debian's `wrk` is closed-loop and cannot do this (wrk2 can, but Debian does not
ship it). One asyncio loop sends 200 requests per second using a few percent of a core, and
every run measures its own trustworthiness: `lag` is how late the client actually started
each request after its intended time, and `client_cpu` how busy the client process was. The
latency already includes that lag, so a late client makes the figures worse, never better.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.stats import open_loop_schedule, percentile

REQUEST_TIMEOUT_S = 10.0
PROGRESS_EVERY_S = 5.0
# Enough connections that a slow server queues requests on its side, not in the client's pool.
MAX_CONNECTIONS = 256
# How long the load's HTTP clients keep an idle connection: under the shortest keep-alive of
# the servers, gunicorn's default of 2 s (`new_session`).
KEPT_CONNECTION_S = 1.0
# A benchmark's customers all write from 127.0.0.1, faster than people do: Rasa's chat limits
# (per conversation and per address) would refuse what it measures. Settings of `running_stack`.
UNLIMITED_CHAT = {
    "CHAT_LIMIT_PER_SESSION": "1000000 per minute",
    "CHAT_LIMIT_PER_ADDRESS": "1000000 per minute",
}


@dataclass(frozen=True)
class Sample:
    """One request of a load: when it was due, started and answered (monotonic seconds)."""

    label: str
    intended: float
    started: float
    done: float
    status: int  # 0 when the request failed without an HTTP answer

    @property
    def latency_ms(self) -> float:
        """Return the latency from the intended send time, as an open-loop load counts it."""
        return (self.done - self.intended) * 1000

    @property
    def lag_ms(self) -> float:
        """Return how late the client started the request."""
        return (self.started - self.intended) * 1000

    @property
    def ok(self) -> bool:
        """Return whether the server answered with a success status."""
        return 200 <= self.status < 300


@dataclass
class LoadRun:
    """The samples of one or more open-loop loads, with the wall and CPU time they took."""

    samples: list[Sample] = field(default_factory=list)
    wall_s: float = 0.0
    client_cpu_s: float = 0.0

    def extend(self, other: LoadRun) -> None:
        """Add another run's samples and times to this one."""
        self.samples.extend(other.samples)
        self.wall_s += other.wall_s
        self.client_cpu_s += other.client_cpu_s

    @property
    def errors(self) -> int:
        """Return how many requests did not succeed."""
        return sum(not sample.ok for sample in self.samples)

    @property
    def achieved_rate(self) -> float:
        """Return successful answers per second of load."""
        return (len(self.samples) - self.errors) / self.wall_s if self.wall_s else 0.0

    def latencies_ms(self, label: str | None = None) -> list[float]:
        """Return the latencies of successful requests (of one label, or all)."""
        return [
            sample.latency_ms
            for sample in self.samples
            if sample.ok and (label is None or sample.label == label)
        ]


RequestPicker = Callable[[int], tuple[str, str]]


async def open_loop(
    session: aiohttp.ClientSession,
    base_url: str,
    pick: RequestPicker,
    *,
    rate_per_s: float,
    duration_s: float,
    headers: Mapping[str, str] | None = None,
    progress: Callable[[str], None] = print,
    name: str = "load",
) -> LoadRun:
    """Send GETs at a constant rate for `duration_s`; `pick(i)` gives request i's label and path."""
    loop = asyncio.get_running_loop()
    cpu_before = time.process_time()
    start = loop.time() + 0.05
    schedule = open_loop_schedule(rate_per_s, duration_s, start)
    samples: list[Sample] = []
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)

    async def one(index: int, intended: float) -> None:
        label, path = pick(index)
        started = loop.time()
        status = 0
        try:
            async with session.get(base_url + path, headers=headers, timeout=timeout) as response:
                await response.read()
                status = response.status
        except (TimeoutError, aiohttp.ClientError):
            status = 0
        samples.append(Sample(label, intended, started, loop.time(), status))

    async def report() -> None:
        while True:
            await asyncio.sleep(PROGRESS_EVERY_S)
            latencies = [sample.latency_ms for sample in samples if sample.ok]
            errors = sum(not sample.ok for sample in samples)
            progress(
                f"  {name}: {len(samples)}/{len(schedule)} answered, {errors} errors, "
                f"p95 so far {percentile(latencies, 95):.1f} ms"
            )

    reporter = asyncio.create_task(report())
    tasks = []
    try:
        for index, intended in enumerate(schedule):
            delay = intended - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(index, intended)))
        await asyncio.gather(*tasks)
    finally:
        reporter.cancel()
    wall_s = max(duration_s, loop.time() - start) if samples else duration_s
    return LoadRun(samples, wall_s, time.process_time() - cpu_before)


def new_session(connections: int = MAX_CONNECTIONS) -> aiohttp.ClientSession:
    """Open a client session with a connection pool of the given size (0: unlimited).

    An idle connection is dropped after KEPT_CONNECTION_S, before the servers drop it
    (gunicorn after 2 s, Sanic after 5): a request sent on a connection the server was closing
    at that moment failed (`ClientOSError`), where a browser sends it again by itself.
    """
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=connections, keepalive_timeout=KEPT_CONNECTION_S)
    )


@dataclass(frozen=True)
class SseEvent:
    """One server-sent event as a client sees it."""

    event: str
    data: str
    id: str | None


class SseParser:
    """Assemble server-sent events from the stream's lines (comments and retry are skipped)."""

    def __init__(self) -> None:
        self._event = ""
        self._data: list[str] = []
        self._id: str | None = None

    def feed(self, line: str) -> SseEvent | None:
        """Take one line (without its line break); return the event a blank line completes."""
        if line == "":
            if not self._data:
                self._event = ""
                return None
            completed = SseEvent(self._event or "message", "\n".join(self._data), self._id)
            self._event, self._data = "", []
            return completed
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            self._id = value
        return None


EventHandler = Callable[[int, SseEvent, float], None]


@dataclass
class StreamStats:
    """How many of the streams opened, are open now, and failed."""

    opened: int = 0
    open_now: int = 0
    failed: int = 0
    failures: list[str] = field(default_factory=list)


async def hold_stream(
    session: aiohttp.ClientSession,
    url: str,
    index: int,
    on_event: EventHandler,
    stats: StreamStats,
    opened: asyncio.Event | None = None,
) -> None:
    """Open one SSE stream and hand every event to `on_event` until cancelled."""
    loop = asyncio.get_running_loop()
    parser = SseParser()
    timeout = aiohttp.ClientTimeout(total=None, connect=REQUEST_TIMEOUT_S, sock_read=None)
    try:
        async with session.get(url, timeout=timeout) as response:
            if response.status != 200:
                raise aiohttp.ClientResponseError(
                    response.request_info, (), status=response.status, message=response.reason or ""
                )
            stats.opened += 1
            stats.open_now += 1
            if opened is not None:
                opened.set()
            try:
                async for raw in response.content:
                    arrived = loop.time()
                    event = parser.feed(raw.decode().rstrip("\r\n"))
                    if event is not None:
                        on_event(index, event, arrived)
            finally:
                stats.open_now -= 1
    except asyncio.CancelledError:
        raise
    except (TimeoutError, aiohttp.ClientError, OSError) as error:
        stats.failed += 1
        if len(stats.failures) < 5:
            stats.failures.append(f"stream {index}: {error!r}")


async def open_streams(
    session: aiohttp.ClientSession,
    url: str,
    count: int,
    on_event: EventHandler,
    stats: StreamStats,
    *,
    first_index: int = 0,
    batch: int = 50,
    progress: Callable[[str], None] = print,
) -> list[asyncio.Task[None]]:
    """Open streams number `first_index` on, `batch` at a time, until `count` opened or failed."""
    tasks: list[asyncio.Task[None]] = []
    end = first_index + count
    for first in range(first_index, end, batch):
        openings = []
        for index in range(first, min(first + batch, end)):
            opened = asyncio.Event()
            task = asyncio.create_task(hold_stream(session, url, index, on_event, stats, opened))
            tasks.append(task)
            openings.append(_first_of(opened.wait(), task))
        await asyncio.gather(*openings)
        progress(f"  streams: {stats.opened} open, {stats.failed} failed")
    return tasks


async def _first_of(opened: Awaitable[Any], task: asyncio.Task[None]) -> None:
    """Wait until the stream opened or its task ended, whichever comes first."""
    waiter = asyncio.ensure_future(opened)
    await asyncio.wait([waiter, task], timeout=REQUEST_TIMEOUT_S * 2, return_when="FIRST_COMPLETED")
    waiter.cancel()


def event_field(event: SseEvent, name: str) -> Any:
    """Return one field of an event's JSON data, or None if it has none."""
    try:
        data = json.loads(event.data)
    except json.JSONDecodeError:
        return None
    return data.get(name) if isinstance(data, dict) else None


async def close_streams(tasks: Sequence[asyncio.Task[None]]) -> None:
    """Cancel the stream tasks and wait until they ended."""
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
