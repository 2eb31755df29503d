"""Latency of a bot turn over REST on one Rasa instance, beside a greeting.

A FAQ turn goes Rasa -> action server (FAQ search, answer) -> Rasa; the baseline, "hi", makes
the same round trip to `action_small_talk`, which finds it is no FAQ question and greets. The
difference is the cost of answering (and of the tracker an answer writes). Then
sustained turns per second with several customers writing at once, for both kinds of turn
and for Rasa's floor: a static response (`utter_agent_joined`, triggered through Rasa's HTTP
API) that needs neither NLU nor the action server, and NLU alone (Rasa's `/model/parse`): no
FAQ turn can cost Rasa less than a static one plus its NLU, which bounds the FAQ turn's share
of the static rate. Last, one long conversation: what a turn costs Rasa as the conversation
grows, beside its first turns.
Run with `.venv/bin/python -m bench.turns` (or `make bench`); it starts a private stack.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bench.load import UNLIMITED_CHAT, new_session
from bench.procfs import cpu_seconds, port_holders
from bench.report import Chart, Row, format_summary, say, write_report
from bench.stats import summarize
from knowledge_base.faqs import load_knowledge_base
from scripts.stack import REPO_ROOT, running_stack

REPORT_PATH = REPO_ROOT / "reports" / "bench" / "turns.html"
# Rasa's team quotes about 20 messages per second for one instance.
RASA_ANCHOR_TURNS_PER_S = 20.0
# A new conversation every few turns: a customer's chat is short, and Rasa's cost per turn
# grows with the length of the tracker.
TURNS_PER_CONVERSATION = 10
WARM_UP_TURNS = 5
GREETING = ("hi", "Hello")
# A static response: Rasa's own floor for a turn (a rule, a template, the tracker saved).
STATIC_INTENT = {"name": "EXTERNAL_agent_joined", "entities": {"agent_name": "Dana"}}
# The requirement: a FAQ turn sustains at least this share of a static one's rate.
STATIC_SHARE_TARGET = 0.6
# One conversation of this many FAQ turns, measured in blocks: the first is the baseline.
LONG_CONVERSATION_TURNS = 100
LONG_CONVERSATION_BLOCK = 25


@dataclass(frozen=True)
class Turn:
    """A message and the start of the reply that shows the bot understood it."""

    text: str
    expected: str


def faq_turns() -> list[Turn]:
    """Return the question of every website FAQ that the bot answers itself."""
    return [
        Turn(faq.question, faq.answer.strip()[:40])
        for faq in load_knowledge_base(REPO_ROOT / "data" / "faq")
        if "web" in faq.channels and not faq.escalate
    ]


class Customers:
    """Hand out sender ids so that every conversation lasts TURNS_PER_CONVERSATION turns."""

    def __init__(self) -> None:
        self.turns: dict[str, int] = {}

    def next_sender(self, current: str | None) -> str:
        if current is None or self.turns[current] >= TURNS_PER_CONVERSATION:
            current = uuid.uuid4().hex
            self.turns[current] = 0
        self.turns[current] += 1
        return current


async def timed_turn(
    session: aiohttp.ClientSession, url: str, sender: str, turn: Turn
) -> tuple[float, bool]:
    """Send one message over REST; return the milliseconds until the reply and if it fit."""
    started = time.perf_counter()
    async with session.post(
        url, json={"sender": sender, "message": turn.text, "metadata": {"channel": "web"}}
    ) as response:
        response.raise_for_status()
        replies = await response.json()
    elapsed = (time.perf_counter() - started) * 1000
    understood = any(reply.get("text", "").startswith(turn.expected) for reply in replies)
    return elapsed, understood


async def one_at_a_time(url: str, turns: list[Turn], count: int, label: str) -> list[float]:
    """Time `count` turns sent one after another; return their latencies."""
    customers, sender = Customers(), None
    latencies: list[float] = []
    misunderstood = 0
    async with new_session() as session:
        schedule = itertools.islice(itertools.cycle(turns), count + WARM_UP_TURNS)
        for index, turn in enumerate(schedule):
            sender = customers.next_sender(sender)
            elapsed, understood = await timed_turn(session, url, sender, turn)
            misunderstood += not understood
            if index >= WARM_UP_TURNS:
                latencies.append(elapsed)
            if index and index % 50 == 0:
                say(f"  {label}: {index}/{count + WARM_UP_TURNS} turns")
    if misunderstood:
        say(f"  {label}: {misunderstood} replies were not the expected answer")
    return latencies


async def timed_api_post(
    session: aiohttp.ClientSession, url: str, token: str, body: Mapping[str, object]
) -> float:
    """POST `body` to a route of Rasa's HTTP API; return the milliseconds it took."""
    started = time.perf_counter()
    async with session.post(url, params={"token": token}, json=body) as response:
        response.raise_for_status()
        await response.read()
    return (time.perf_counter() - started) * 1000


Send = Callable[[aiohttp.ClientSession, str, int], Awaitable[float]]


def rest_turns(url: str, turns: list[Turn]) -> Send:
    """Return a sender of the `n`th of `turns` over REST."""

    async def send(session: aiohttp.ClientSession, sender: str, n: int) -> float:
        elapsed, _ = await timed_turn(session, url, sender, turns[n % len(turns)])
        return elapsed

    return send


async def one_conversation(
    url: str, turns: list[Turn], rasa_pid: int
) -> tuple[list[float], list[float]]:
    """Send LONG_CONVERSATION_TURNS turns in one conversation, one after another; return
    each one's latency and Rasa's CPU milliseconds per turn in each block of them."""
    sender = uuid.uuid4().hex
    latencies: list[float] = []
    cpu_per_turn: list[float] = []
    async with new_session() as session:
        for start in range(0, LONG_CONVERSATION_TURNS, LONG_CONVERSATION_BLOCK):
            cpu_before = cpu_seconds(rasa_pid)
            for n in range(start, start + LONG_CONVERSATION_BLOCK):
                elapsed, _ = await timed_turn(session, url, sender, turns[n % len(turns)])
                latencies.append(elapsed)
            used = cpu_seconds(rasa_pid) - cpu_before
            cpu_per_turn.append(used * 1000 / LONG_CONVERSATION_BLOCK)
            say(f"  one conversation: {start + LONG_CONVERSATION_BLOCK} turns")
    return latencies, cpu_per_turn


def parses(rasa_url: str, token: str, turns: list[Turn]) -> Send:
    """Return a sender of the `n`th of `turns` to NLU alone."""

    async def send(session: aiohttp.ClientSession, _: str, n: int) -> float:
        body = {"text": turns[n % len(turns)].text}
        return await timed_api_post(session, f"{rasa_url}/model/parse", token, body)

    return send


def static_turns(rasa_url: str, token: str) -> Send:
    """Return a sender of the static response."""

    async def send(session: aiohttp.ClientSession, sender: str, _: int) -> float:
        url = f"{rasa_url}/conversations/{sender}/trigger_intent"
        return await timed_api_post(session, url, token, STATIC_INTENT)

    return send


@dataclass(frozen=True)
class Sustained:
    """Turns per second under load, their latencies, and Rasa's CPU milliseconds per turn."""

    rate: float
    latencies: list[float]
    rasa_cpu_ms: float


async def sustained(send: Send, customers: int, seconds: float, rasa_pid: int) -> Sustained:
    """Keep `customers` conversations busy for `seconds`; return what they measured."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    cpu_before = cpu_seconds(rasa_pid)

    async def customer(offset: int, session: aiohttp.ClientSession) -> None:
        senders, sender = Customers(), None
        for n in itertools.count(offset):
            if time.perf_counter() >= deadline:
                return
            sender = senders.next_sender(sender)
            latencies.append(await send(session, sender, n))

    started = time.perf_counter()
    async with new_session() as session:
        await asyncio.gather(*(customer(number * 7, session) for number in range(customers)))
    rate = len(latencies) / (time.perf_counter() - started)
    cpu_ms = 1000 * (cpu_seconds(rasa_pid) - cpu_before) / max(1, len(latencies))
    return Sustained(rate, latencies, cpu_ms)


def main(argv: list[str] | None = None) -> int:
    """Run the turn benchmark and print its figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.turns", description=__doc__)
    parser.add_argument("--turns", type=int, default=200, help="turns timed one at a time")
    parser.add_argument("--customers", type=int, default=8, help="concurrent customers")
    parser.add_argument("--seconds", type=float, default=20.0, help="sustained load per kind")
    parser.add_argument("--report", type=Path, default=REPORT_PATH, help="HTML report to write")
    args = parser.parse_args(argv)

    questions = faq_turns()
    greeting = [Turn(*GREETING)]
    load_before = os.getloadavg()[0]
    say(f"starting a private stack; load average {load_before:.1f}")
    with (
        tempfile.TemporaryDirectory(prefix="bench-turns-") as workdir,
        running_stack(Path(workdir), **UNLIMITED_CHAT) as stack,
    ):
        url = f"{stack.rasa_url}/webhooks/rest/webhook"
        say(f"{args.turns} greeting turns ('hi' -> action_small_talk), one at a time")
        greeted = asyncio.run(one_at_a_time(url, greeting, args.turns, "greeting"))
        say(f"{args.turns} FAQ turns ({len(questions)} different questions), one at a time")
        answered = asyncio.run(one_at_a_time(url, questions, args.turns, "FAQ"))
        (rasa_pid,) = port_holders(int(stack.env["RASA_PORT"]))
        at_once = f"{args.customers} customers at once for {args.seconds:.0f} s"
        say(f"{at_once}: static responses (no NLU, no action server)")
        static = asyncio.run(
            sustained(
                static_turns(stack.rasa_url, stack.env["RASA_API_TOKEN"]),
                args.customers,
                args.seconds,
                rasa_pid,
            )
        )
        say(f"{at_once}: NLU alone (the FAQ questions)")
        parsed = asyncio.run(
            sustained(
                parses(stack.rasa_url, stack.env["RASA_API_TOKEN"], questions),
                args.customers,
                args.seconds,
                rasa_pid,
            )
        )
        say(f"{at_once}: greeting turns")
        greetings = asyncio.run(
            sustained(rest_turns(url, greeting), args.customers, args.seconds, rasa_pid)
        )
        say(f"{at_once}: FAQ turns")
        faqs = asyncio.run(
            sustained(rest_turns(url, questions), args.customers, args.seconds, rasa_pid)
        )
        say(f"one conversation of {LONG_CONVERSATION_TURNS} FAQ turns, one at a time")
        long_latencies, long_cpu = asyncio.run(one_conversation(url, questions, rasa_pid))
    load_after = os.getloadavg()[0]

    faq, baseline = summarize(answered), summarize(greeted)
    share_ceiling = static.rasa_cpu_ms / (static.rasa_cpu_ms + parsed.rasa_cpu_ms)
    loaded, baseline_loaded = summarize(faqs.latencies), summarize(greetings.latencies)
    rows = [
        Row("FAQ turn p50 (one at a time)", faq.p50, "ms", baseline.p50, note="baseline: greeting"),
        Row("FAQ turn p95 (one at a time)", faq.p95, "ms", baseline.p95, note=f"n={faq.count}"),
        Row(
            "action round trip p50",
            faq.p50 - baseline.p50,
            "ms",
            note="FAQ turn minus greeting turn",
        ),
        Row(
            f"sustained FAQ turns/s ({args.customers} customers)",
            faqs.rate,
            "turns/s",
            greetings.rate,
            note=f"anchor: Rasa quotes ~{RASA_ANCHOR_TURNS_PER_S:.0f}/s per instance",
        ),
        Row(
            f"sustained static responses/s ({args.customers} customers)",
            static.rate,
            "turns/s",
            note="Rasa's floor: no NLU, no action server",
        ),
        Row(
            "FAQ turns/s as a share of static responses/s",
            100 * faqs.rate / static.rate,
            "%",
            target=100 * STATIC_SHARE_TARGET,
            higher_is_better=True,
            note=f"at most {100 * share_ceiling:.0f}% (below)",
        ),
        Row(
            "Rasa CPU per NLU parse under load",
            parsed.rasa_cpu_ms,
            "ms",
            static.rasa_cpu_ms,
            note="baseline: static response; NLU alone, over Rasa's HTTP API",
        ),
        Row(
            "ceiling of the share: static turn / (static turn + NLU)",
            100 * share_ceiling,
            "%",
            note="Rasa's CPU per turn: what a FAQ turn could reach if answering cost nothing",
        ),
        Row(
            "Rasa CPU per FAQ turn under load",
            faqs.rasa_cpu_ms,
            "ms",
            static.rasa_cpu_ms,
            note=f"baseline: static response; greeting {greetings.rasa_cpu_ms:.1f} ms",
        ),
        Row("FAQ turn p95 under load", loaded.p95, "ms", baseline_loaded.p95),
        Row(
            f"Rasa CPU per FAQ turn, last {LONG_CONVERSATION_BLOCK} of one conversation",
            long_cpu[-1],
            "ms",
            long_cpu[0],
            note=f"baseline: its first {LONG_CONVERSATION_BLOCK} turns",
        ),
        Row(
            f"FAQ turn p50, last {LONG_CONVERSATION_BLOCK} of one conversation",
            summarize(long_latencies[-LONG_CONVERSATION_BLOCK:]).p50,
            "ms",
            summarize(long_latencies[:LONG_CONVERSATION_BLOCK]).p50,
            note=f"{LONG_CONVERSATION_TURNS} turns in all",
        ),
    ]
    charts = [
        Chart(
            "One turn at a time: FAQ answer vs greeting",
            {"FAQ answer (action server)": answered, "'hi' -> greeting": greeted},
            caption="From the POST to Rasa's REST channel until its reply, one turn at a time.",
        ),
        Chart(
            f"Sustained load: {args.customers} customers writing at once",
            {
                "FAQ answer": faqs.latencies,
                "greeting": greetings.latencies,
                "static response": static.latencies,
            },
            caption="Latency of every turn while the load ran.",
        ),
        Chart(
            "Turns per second on one Rasa instance",
            {"measured": [static.rate, greetings.rate, faqs.rate]},
            categories=["static response", "greeting", "FAQ answer"],
            kind="bar",
            xlabel="kind of turn",
            ylabel="turns per second",
            target=RASA_ANCHOR_TURNS_PER_S,
            caption="The dashed line is the anchor Rasa's team quotes, not a target.",
        ),
        Chart(
            f"One conversation of {LONG_CONVERSATION_TURNS} FAQ turns",
            {"FAQ turn": long_latencies},
            kind="series",
            xlabel="turn of the conversation",
            caption="Each turn's latency, one after another: what a turn costs as the "
            "conversation Rasa reads and predicts from grows.",
        ),
    ]
    notes = [
        f"Machine: {os.cpu_count()} cores; 1-minute load average {load_before:.1f} at the start "
        f"and {load_after:.1f} at the end (the stack under test included).",
        f"Each conversation lasts {TURNS_PER_CONVERSATION} turns, then a new one starts.",
    ]
    title = "Bot turn benchmark (REST, one Rasa instance)"
    print(f"\n{title}\n{format_summary(rows)}")
    for note in notes:
        print(f"- {note}")
    print(f"report: {write_report(args.report, title, rows, charts, notes)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
