"""Measure the handoff server on a private stack: API at 200 req/s, agent to socket, 500 streams.

Run with `.venv/bin/python -m bench.handoff` (or `make bench`). It starts the supervised
processes exactly as the end-to-end tests do, prints progress and a summary of every figure
beside a baseline measured in the same run, and draws `reports/bench/handoff.html`. A missed
target is reported, not an error: the exit status is non-zero only if the benchmark crashes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import queue
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import requests

from bench import procfs
from bench.load import (
    LoadRun,
    RequestPicker,
    SseEvent,
    StreamStats,
    close_streams,
    event_field,
    new_session,
    open_loop,
    open_streams,
)
from bench.report import Chart, Row, format_summary, say, write_report
from bench.stats import percentile, summarize
from handoff_server.queueing import REASON_PRIORITY
from scripts.stack import REPO_ROOT, Stack, running_stack
from scripts.widget_socket import WidgetSocket

REPORT_PATH = REPO_ROOT / "reports" / "bench" / "handoff.html"
SOCKET_P95_TARGET_MS = 300.0
# The agent console's reads: the queue list when it opens, then one conversation per click.
QUEUE_LIST_SHARE = 0.4
REPLY_TIMEOUT_S = 30.0
FANOUT_TIMEOUT_S = 15.0
HEALTHZ_PROBE_RATE = 50.0
HEALTHZ_PROBE_S = 8.0
STREAM_TRIGGERS = 5


@dataclass
class Results:
    """Everything measured, for the summary and the charts."""

    rows: list[Row] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class TimedWidget(WidgetSocket):
    """A customer's socket that stamps each reply when it arrives."""

    def __init__(self, rasa_url: str) -> None:
        self.replies: queue.Queue[tuple[float, dict[str, Any]]] = queue.Queue()
        super().__init__(
            rasa_url,
            lambda data: self.replies.put((time.perf_counter(), data)),
            page_url="https://lumen-river.example/bench",
        )

    def drain(self) -> None:
        """Forget replies that already arrived."""
        while not self.replies.empty():
            self.replies.get_nowait()

    def wait_for(self, wanted: Callable[[str], bool]) -> float | None:
        """Return when the first reply whose text is `wanted` arrived, or None on timeout."""
        deadline = time.monotonic() + REPLY_TIMEOUT_S
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                arrived, reply = self.replies.get(timeout=remaining)
            except queue.Empty:
                break
            if wanted(str(reply.get("text", ""))):
                return arrived
        return None


def log_in_agent(stack: Stack) -> str:
    """Create an agent through the CLI, as an admin would, and return its bearer token."""
    return stack.log_in("bench", stack.create_agent("bench"))


def measure_socket(stack: Stack, token: str, turns: int, results: Results) -> None:
    """Time agent messages to the customer's socket beside bot turns on the same socket."""
    widget = TimedWidget(stack.rasa_url)
    agent = requests.Session()
    agent.headers["Authorization"] = f"Bearer {token}"
    try:
        # Baseline: the customer says hi and the bot greets them (a round trip to the actions).
        say(f"socket: {turns} bot turns ('hi' -> greeting) as the baseline")
        bot_turns: list[float] = []
        for index in range(turns + 3):
            widget.drain()
            sent = time.perf_counter()
            widget.say("hi")
            arrived = widget.wait_for(lambda text: text.startswith("Hello"))
            if arrived is None:
                raise RuntimeError("the bot did not answer 'hi' with a greeting")
            if index >= 3:  # the first turns load the tracker and warm caches
                bot_turns.append((arrived - sent) * 1000)
            if index and index % 25 == 0:
                so_far = percentile(bot_turns, 95)
                say(f"  bot turns: {index}/{turns + 3}, p95 so far {so_far:.0f} ms")

        say("socket: handing off ('I want to talk to a person') and claiming as the agent")
        widget.say("I want to talk to a person")
        if widget.wait_for(lambda text: "queue" in text) is None:
            raise RuntimeError("the handoff was not confirmed to the customer")
        conversation_id = _queued_id(stack, agent, widget.session_id)
        agent.post(f"{stack.handoff_url}/api/conversations/{conversation_id}/claim", timeout=10)
        widget.wait_for(lambda text: "joined" in text)

        say(f"socket: {turns} agent messages, one at a time")
        to_socket: list[float] = []
        post_answer: list[float] = []
        lost = 0
        nonce = uuid.uuid4().hex[:6]
        for index in range(turns + 3):
            text = f"Agent reply {index} ({nonce}): let me check that booking for you."
            widget.drain()
            sent = time.perf_counter()
            answer = agent.post(
                f"{stack.handoff_url}/api/conversations/{conversation_id}/messages",
                json={"text": text},
                timeout=10,
            )
            answered = time.perf_counter()
            answer.raise_for_status()
            arrived = widget.wait_for(text.__eq__)
            if arrived is None:
                lost += 1
                say(f"  agent message {index} never reached the socket")
                if lost >= 5:
                    break
                continue
            if index >= 3:
                to_socket.append((arrived - sent) * 1000)
                post_answer.append((answered - sent) * 1000)
            if index and index % 25 == 0:
                say(
                    f"  agent messages: {index}/{turns + 3}, "
                    f"p95 so far {percentile(to_socket, 95):.0f} ms"
                )
    finally:
        widget.close()
        agent.close()

    message, bot = summarize(to_socket), summarize(bot_turns)
    results.rows += [
        Row("agent message -> socket p50", message.p50, "ms", bot.p50, note="baseline: bot turn"),
        Row(
            "agent message -> socket p95",
            message.p95,
            "ms",
            bot.p95,
            target=SOCKET_P95_TARGET_MS,
            note=f"n={message.count}, lost {lost}",
        ),
        Row("agent POST answered p50", summarize(post_answer).p50, "ms", note="includes Rasa push"),
    ]
    results.charts += [
        Chart(
            "Agent message to customer socket vs. a bot turn (same socket)",
            {"agent message -> socket": to_socket, "baseline: 'hi' -> greeting": bot_turns},
            target=SOCKET_P95_TARGET_MS,
            caption="Time from sending the POST (or the customer's message) to the text "
            "arriving on the customer's socket.io connection.",
        ),
        Chart(
            "The same, in the order measured",
            {"agent message -> socket": to_socket, "baseline: 'hi' -> greeting": bot_turns},
            kind="series",
            xlabel="message number",
            target=SOCKET_P95_TARGET_MS,
            caption="A rising line would mean the cost grows with the conversation's length.",
        ),
    ]


def _queued_id(stack: Stack, agent: requests.Session, sender_id: str) -> int:
    """Wait until the customer's conversation is in the queue; return its id."""
    deadline = time.monotonic() + REPLY_TIMEOUT_S
    while time.monotonic() < deadline:
        listed = agent.get(f"{stack.handoff_url}/api/conversations?state=queued", timeout=10)
        for item in listed.json()["conversations"]:
            if item["sender_id"] == sender_id:
                return int(item["id"])
        time.sleep(0.2)
    raise RuntimeError("the customer's conversation never appeared in the queue")


def handoff_packet(sender_id: str, reason: str, index: int) -> dict[str, Any]:
    """Return a realistic context packet: six turns with intents, scores and FAQ hits."""
    turns = [
        ("customer", "hi", "greet"),
        ("bot", "Hello! I'm the Lumen River Cruises assistant.", None),
        ("customer", f"my refund for booking LR{100000 + index} has not arrived", "faq"),
        ("bot", "Refunds go back to your card within 5 to 10 working days.", None),
        ("customer", "it has been three weeks, I want to talk to someone", "human_handoff"),
        ("bot", "I'm connecting you with a person from our team.", None),
    ]
    return {
        "sender_id": sender_id,
        "channel": "kiosk" if index % 4 == 0 else "web",
        "page_url": "https://lumen-river.example/bookings",
        "locale": "en-GB",
        "customer": {"name": f"Customer {index}", "email": f"customer{index}@example.com"},
        "reason": reason,
        "sentiment": -0.4,
        "summary": "Refund for a cancelled cruise has not arrived after three weeks.",
        "tags": ["refunds"],
        "transcript": [
            {
                "role": role,
                "text": text,
                "intent": intent,
                "confidence": 0.93 if intent else None,
                "faq_hits": [{"faq_id": "refund_timeline", "score": 0.71}] if intent else None,
            }
            for role, text, intent in turns
        ],
    }


def seed_conversations(stack: Stack, count: int) -> list[int]:
    """Queue `count` handoffs through the API; return their ids."""
    say(f"seeding {count} handed-off conversations through POST /api/handoffs")
    # Highest priority first, so each new handoff joins the end of the queue: no customer's
    # place changes, and no queue-update pushes to Rasa run in the background of the load.
    reasons = sorted(REASON_PRIORITY, key=REASON_PRIORITY.__getitem__)
    per_reason = -(-count // len(reasons))
    service = requests.Session()
    service.headers["Authorization"] = f"Bearer {stack.env['HANDOFF_SERVICE_TOKEN']}"
    ids = []
    nonce = uuid.uuid4().hex[:6]
    for index in range(count):
        reason = reasons[index // per_reason]
        packet = handoff_packet(f"bench-{nonce}-{index}", reason, index)
        response = service.post(f"{stack.handoff_url}/api/handoffs", json=packet, timeout=10)
        response.raise_for_status()
        ids.append(int(response.json()["id"]))
        if (index + 1) % 100 == 0:
            say(f"  {index + 1}/{count} queued")
    service.close()
    return ids


async def measure_api(
    stack: Stack, token: str, ids: list[int], rate: float, seconds: float, results: Results
) -> None:
    """Load the agent read mix and /healthz at the same rate, in alternating blocks."""
    rng = random.Random(7)
    mix = [
        ("queue list", "/api/conversations?state=queued")
        if rng.random() < QUEUE_LIST_SHARE
        else ("conversation detail", f"/api/conversations/{rng.choice(ids)}")
        for _ in range(int(rate * seconds) + 1)
    ]
    agent_headers = {"Authorization": f"Bearer {token}"}
    worker = procfs.worker_pid(int(stack.env["HANDOFF_PORT"]))
    # Alternate 5 s blocks so the machine's background noise falls on both alike.
    blocks = max(1, round(seconds / 5))
    block_s = seconds / blocks
    api, healthz = LoadRun(), LoadRun()
    server_cpu = {"api": 0.0, "healthz": 0.0}
    offset = 0
    async with new_session() as session:
        say("API: warming up the connections (2 s, not counted)")
        await open_loop(
            session,
            stack.handoff_url,
            lambda i: mix[i],
            rate_per_s=50,
            duration_s=2,
            headers=agent_headers,
            progress=say,
        )
        for block in range(blocks):
            say(f"API block {block + 1}/{blocks}: {rate:.0f} req/s for {block_s:.0f} s on /healthz")
            cpu = procfs.cpu_seconds(worker)
            healthz.extend(
                await open_loop(
                    session,
                    stack.handoff_url,
                    lambda i: ("healthz", "/healthz"),
                    rate_per_s=rate,
                    duration_s=block_s,
                    progress=say,
                    name="healthz",
                )
            )
            server_cpu["healthz"] += procfs.cpu_seconds(worker) - cpu
            say(
                f"API block {block + 1}/{blocks}: {rate:.0f} req/s for {block_s:.0f} s, agent reads"
            )
            cpu = procfs.cpu_seconds(worker)
            run = await open_loop(
                session,
                stack.handoff_url,
                picker_from(mix, offset),
                rate_per_s=rate,
                duration_s=block_s,
                headers=agent_headers,
                progress=say,
                name="agent reads",
            )
            server_cpu["api"] += procfs.cpu_seconds(worker) - cpu
            offset += len(run.samples)
            api.extend(run)

    reads, base = summarize(api.latencies_ms()), summarize(healthz.latencies_ms())
    lag = [sample.lag_ms for sample in api.samples + healthz.samples]
    client_cpu = (api.client_cpu_s + healthz.client_cpu_s) / (api.wall_s + healthz.wall_s)
    per_request_ms = {
        name: 1000 * server_cpu[name] / max(1, len(run.samples))
        for name, run in (("api", api), ("healthz", healthz))
    }
    results.rows += [
        Row(f"API p50 at {rate:.0f} req/s", reads.p50, "ms", base.p50, note="baseline: /healthz"),
        Row(f"API p95 at {rate:.0f} req/s", reads.p95, "ms", base.p95, note="baseline: /healthz"),
        Row(f"API p99 at {rate:.0f} req/s", reads.p99, "ms", base.p99, note="baseline: /healthz"),
        Row(
            "API achieved rate",
            api.achieved_rate,
            "req/s",
            healthz.achieved_rate,
            target=rate * 0.98,
            higher_is_better=True,
            note=f"offered {rate:.0f} req/s for {seconds:.0f} s each",
        ),
        Row("API errors", api.errors, "req", healthz.errors, note="non-2xx or timeouts"),
        Row(
            "server CPU per API request",
            per_request_ms["api"],
            "ms",
            per_request_ms["healthz"],
            note=f"one gevent worker: a core is spent at {1000 / per_request_ms['api']:.0f} req/s"
            if per_request_ms["api"]
            else "",
        ),
        Row(
            "load client lag p99",
            percentile(lag, 99),
            "ms",
            note=f"client CPU {100 * client_cpu:.0f}% of a core",
        ),
    ]
    for label in ("queue list", "conversation detail"):
        results.rows.append(
            Row(f"  {label} p95", summarize(api.latencies_ms(label)).p95, "ms", base.p95)
        )
    results.charts.append(
        Chart(
            f"API latency at {rate:.0f} req/s (open loop, from the intended send time)",
            {
                "baseline: GET /healthz": healthz.latencies_ms(),
                "agent reads (all)": api.latencies_ms(),
                "GET /api/conversations?state=queued": api.latencies_ms("queue list"),
                "GET /api/conversations/<id>": api.latencies_ms("conversation detail"),
            },
            caption=f"{len(ids)} queued conversations; {QUEUE_LIST_SHARE:.0%} queue lists, the "
            "rest conversation details, with an agent's bearer token.",
        )
    )


def picker_from(mix: list[tuple[str, str]], offset: int) -> RequestPicker:
    """Pick request i of a load as item offset + i of the mix, wrapping around."""
    return lambda index: mix[(offset + index) % len(mix)]


@dataclass
class Fanout:
    """Arrival times of trigger events on each stream."""

    pending: dict[str, dict[int, float]] = field(default_factory=dict)

    def on_event(self, index: int, event: SseEvent, arrived: float) -> None:
        """Record the first arrival of a trigger's conversation event on stream `index`."""
        if event.event != "conversation":
            return
        arrivals = self.pending.get(str(event_field(event, "sender_id")))
        if arrivals is not None:
            arrivals.setdefault(index, arrived)


@dataclass
class FanoutRun:
    """Fan-out latencies of trigger events, how long their POSTs took, and how many arrived."""

    latencies_ms: list[float] = field(default_factory=list)
    post_ms: list[float] = field(default_factory=list)
    delivered: int = 0
    expected: int = 0


async def trigger_events(
    session: Any, stack: Stack, fanout: Fanout, stats: StreamStats, count: int, label: str
) -> FanoutRun:
    """Queue `count` handoffs one by one and wait until each reached every open stream."""
    loop = asyncio.get_running_loop()
    run = FanoutRun()
    headers = {"Authorization": f"Bearer {stack.env['HANDOFF_SERVICE_TOKEN']}"}
    for index in range(count):
        sender = f"bench-fanout-{uuid.uuid4().hex[:8]}"
        arrivals = fanout.pending.setdefault(sender, {})
        listening = stats.open_now
        sent = loop.time()
        async with session.post(
            f"{stack.handoff_url}/api/handoffs",
            # The lowest priority joins the end of the queue: nobody's place changes, so the
            # POST answers at once and the figure is the stream path alone. (A higher priority
            # would first push a queue update through Rasa to every customer it overtakes.)
            json=handoff_packet(sender, "repeated_misses", index),
            headers=headers,
        ) as response:
            response.raise_for_status()
            await response.read()
        run.post_ms.append((loop.time() - sent) * 1000)
        deadline = sent + FANOUT_TIMEOUT_S
        while len(arrivals) < listening and loop.time() < deadline:
            await asyncio.sleep(0.01)
        latencies = [(arrived - sent) * 1000 for arrived in arrivals.values()]
        run.latencies_ms += latencies
        run.delivered += len(arrivals)
        run.expected += listening
        say(
            f"  {label} event {index + 1}/{count}: {len(arrivals)}/{listening} streams got it, "
            f"POST answered in {run.post_ms[-1]:.0f} ms, last stream after "
            f"{max(latencies, default=0):.0f} ms"
        )
        await asyncio.sleep(1.0)
    return run


async def probe_healthz(probe: aiohttp.ClientSession, stack: Stack) -> LoadRun:
    """Load /healthz lightly, to see what held streams cost other requests."""
    return await open_loop(
        probe,
        stack.handoff_url,
        lambda i: ("healthz", "/healthz"),
        rate_per_s=HEALTHZ_PROBE_RATE,
        duration_s=HEALTHZ_PROBE_S,
        progress=say,
        name="healthz",
    )


async def measure_streams(stack: Stack, token: str, streams: int, results: Results) -> None:
    """Hold `streams` SSE streams on the one worker; measure fan-out, memory and /healthz."""
    worker = procfs.worker_pid(int(stack.env["HANDOFF_PORT"]))
    url = f"{stack.handoff_url}/api/stream?token={token}"
    fanout = Fanout()
    stats = StreamStats()
    async with new_session(connections=8) as probe, new_session(connections=0) as session:
        say(f"streams: /healthz at {HEALTHZ_PROBE_RATE:.0f} req/s with no stream open (baseline)")
        quiet = await probe_healthz(probe, stack)
        rss_before = procfs.rss_mib(worker)
        say("streams: fan-out to a single stream (baseline)")
        tasks = await open_streams(session, url, 1, fanout.on_event, stats, progress=say)
        single = await trigger_events(probe, stack, fanout, stats, STREAM_TRIGGERS, "1 stream")
        say(f"streams: opening {streams - 1} more")
        tasks += await open_streams(
            session, url, streams - 1, fanout.on_event, stats, first_index=1, progress=say
        )
        held = stats.open_now
        await asyncio.sleep(1.0)
        rss_held = procfs.rss_mib(worker)
        say(f"streams: {held} open; worker RSS {rss_before:.0f} -> {rss_held:.0f} MiB")
        say(f"streams: /healthz at {HEALTHZ_PROBE_RATE:.0f} req/s with {held} streams open")
        loaded = await probe_healthz(probe, stack)
        say(f"streams: {STREAM_TRIGGERS} events fanned out to {stats.open_now} streams")
        many = await trigger_events(
            probe, stack, fanout, stats, STREAM_TRIGGERS, f"{stats.open_now} streams"
        )
        rss_after = procfs.rss_mib(worker)
        await close_streams(tasks)
    if stats.failures:
        results.notes.append("stream failures: " + "; ".join(stats.failures))

    base, held_healthz = summarize(quiet.latencies_ms()), summarize(loaded.latencies_ms())
    results.rows += [
        Row(
            "event streams held",
            held,
            "streams",
            target=streams,
            higher_is_better=True,
            note=f"{stats.failed} failed to open",
        ),
        Row(
            "events delivered to streams",
            100 * many.delivered / max(1, many.expected),
            "%",
            target=100.0,
            higher_is_better=True,
            note=f"{many.delivered}/{many.expected} over {STREAM_TRIGGERS} events",
        ),
        Row(
            f"fan-out p50 to {held} streams",
            summarize(many.latencies_ms).p50,
            "ms",
            summarize(single.latencies_ms).p50,
            note="baseline: 1 stream",
        ),
        Row(
            f"fan-out p95 to {held} streams",
            summarize(many.latencies_ms).p95,
            "ms",
            summarize(single.latencies_ms).p95,
            note="baseline: 1 stream",
        ),
        Row(
            "  its POST /api/handoffs p50",
            summarize(many.post_ms).p50,
            "ms",
            summarize(single.post_ms).p50,
            note="the event's own request",
        ),
        Row(
            "worker RSS with streams",
            rss_held,
            "MiB",
            rss_before,
            note=f"{1024 * (rss_held - rss_before) / max(1, held):.0f} KiB a stream; "
            f"{rss_after:.0f} MiB after fan-out",
        ),
        Row(
            f"/healthz p95 with {held} streams",
            held_healthz.p95,
            "ms",
            base.p95,
            note=f"{HEALTHZ_PROBE_RATE:.0f} req/s; baseline: no streams",
        ),
    ]
    results.charts += [
        Chart(
            "Event fan-out: from POST /api/handoffs to the event on each stream",
            {"baseline: 1 stream": single.latencies_ms, f"{held} streams": many.latencies_ms},
            caption=f"{STREAM_TRIGGERS} events each; one point per stream and event.",
        ),
        Chart(
            f"/healthz at {HEALTHZ_PROBE_RATE:.0f} req/s with and without open streams",
            {
                "baseline: no streams": quiet.latencies_ms(),
                f"{held} streams": loaded.latencies_ms(),
            },
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    """Run the handoff server benchmark and print its figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.handoff", description=__doc__)
    parser.add_argument("--rate", type=float, default=200.0, help="API requests per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="API load per target")
    parser.add_argument("--turns", type=int, default=100, help="agent messages and bot turns")
    parser.add_argument("--streams", type=int, default=500, help="event streams to hold")
    parser.add_argument("--conversations", type=int, default=300, help="queued handoffs")
    parser.add_argument("--report", type=Path, default=REPORT_PATH, help="HTML report to write")
    args = parser.parse_args(argv)

    results = Results()
    load_before = os.getloadavg()
    say(f"starting a private stack (Rasa, actions, handoff); load average {load_before[0]:.1f}")
    with (
        tempfile.TemporaryDirectory(prefix="bench-handoff-") as workdir,
        running_stack(Path(workdir)) as stack,
    ):
        say("stack is up")
        token = log_in_agent(stack)
        measure_socket(stack, token, args.turns, results)
        ids = seed_conversations(stack, args.conversations)
        asyncio.run(measure_api(stack, token, ids, args.rate, args.seconds, results))
        asyncio.run(measure_streams(stack, token, args.streams, results))
        say("stopping the stack")
    load_after = os.getloadavg()
    results.notes += [
        f"Machine: {os.cpu_count()} cores; 1-minute load average {load_before[0]:.1f} at the "
        f"start and {load_after[0]:.1f} at the end (the stack under test included).",
        "Latencies of the API and /healthz loads are counted from each request's intended send "
        "time (open loop), so queueing in the server shows instead of slowing the client.",
    ]
    title = "Handoff server benchmark"
    print(f"\n{title}\n{format_summary(results.rows)}")
    for note in results.notes:
        print(f"- {note}")
    missed = [row.name for row in results.rows if row.verdict == "FAIL"]
    print("MISSED TARGETS: " + "; ".join(missed) if missed else "Every target met.")
    path = write_report(args.report, title, results.rows, results.charts, results.notes)
    raw = path.with_suffix(".json")
    raw.write_text(json.dumps({chart.title: chart.series for chart in results.charts}))
    print(f"report: {path} (raw samples in {raw.name})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
