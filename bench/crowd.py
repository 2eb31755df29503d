"""`make load`: a crowd of customers and agents on the real stack, every message accounted for.

N customers (socket.io as the widget speaks it, and REST) ask FAQ questions with
exponential pauses; some ask for a person, whom M agents (the handoff API and its event
stream, as the console uses them) claim, answer a few times and resolve. For T seconds,
then a drain for messages still in flight, then it stops by itself. Every customer message
written while a person held the conversation must reach that agent's stream once and in
order, every agent message the customer's socket once and in order, every question a bot
reply. It prints the tally beside the issue's targets and draws `reports/load/load.html`.

By default it starts a private stack as the benchmarks do, `--scaled` the scaled-out one
of `make run-scaled` (customers through nginx), after the same crowd on the embedded stack
with `--beside-embedded` (its figures are the baseline column); `--env-file .env` drives
the one `make run` started instead (loopback only). A missed target is reported, not an
error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import random
import secrets
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import requests
from tqdm import tqdm

from bench import procfs
from bench.accounting import Observations, Tally
from bench.actors import Stage
from bench.agents import Agent
from bench.customers import RestCustomer, SocketCustomer
from bench.load import close_streams, new_session
from bench.plan import Plan, quick
from bench.report import Chart, Row, format_summary, write_report
from bench.stats import percentile_per_window, rate_per_window, summarize, windows
from bench.turns import faq_turns
from scripts.ensure_env import parse_line
from scripts.stack import REPO_ROOT, Stack, running_scaled_stack, running_stack

REPORT_PATH = REPO_ROOT / "reports" / "load" / "load.html"
BOT_REPLY_P95_TARGET_MS = 2000.0
AGENT_TO_CUSTOMER_P95_TARGET_MS = 1000.0
SAMPLE_EVERY_S = 2.0
# Customers still waiting for a reply or an agent still calling the API when the run ends.
WIND_DOWN_S = 40.0


@dataclass
class Outcome:
    """What a run saw, with the usage of each server process and of the load client itself."""

    plan: Plan
    seen: Observations
    processes: list[procfs.Usage] = field(default_factory=list)
    wall_s: float = 0.0
    drain_s: float = 0.0
    client_cpu_s: float = 0.0
    load_average: tuple[float, float] = (math.nan, math.nan)

    @property
    def customer_to_agent(self) -> Tally:
        return self.seen.customer_to_agent().tally()

    @property
    def agent_to_customer(self) -> Tally:
        return self.seen.agent_to_customer.tally()


def sign_in_agents(stack: Stack, count: int) -> list[str]:
    """Create `count` agent accounts, as an admin would, and return their bearer tokens."""
    nonce = secrets.token_hex(3)
    admin, password = f"load-admin-{nonce}", secrets.token_urlsafe(12)
    stack.run_module("handoff_server", "create-agent", admin, "--role", "admin", stdin=password)
    admin_token = stack.log_in(admin, password)
    tokens = []
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {admin_token}"
        for index in range(count):
            username = f"load-{nonce}-{index}"
            response = session.post(
                f"{stack.handoff_url}/api/agents",
                json={
                    "username": username,
                    "password": password,
                    "role": "agent",
                    "name": f"Agent {index}",
                },
                timeout=10,
            )
            response.raise_for_status()
            tokens.append(stack.log_in(username, password))
    return tokens


def watch_servers(stack: Stack) -> list[procfs.Usage]:
    """Start following every process that holds one of the servers' ports (nginx's too)."""
    ports = [
        *((f"rasa :{port}", port) for port in stack.rasa_ports),
        *((f"actions :{port}", port) for port in stack.action_server_ports),
        ("handoff", int(stack.env["HANDOFF_PORT"])),
        *((("nginx", int(stack.env["PROXY_PORT"])),) if stack.env.get("PROXY_PORT") else ()),
    ]
    usages = []
    for server, port in ports:
        for pid in procfs.port_holders(port):
            usages.append(procfs.Usage.start(f"{server}: {procfs.command_name(pid)}", pid))
    return usages


def run_load(stack: Stack, plan: Plan, *, progress: bool = True) -> Outcome:
    """Drive the plan's crowd against a running stack; return everything it saw."""
    # A socket the server stopped pinging logs an error; the run counts the drops instead.
    logging.getLogger("engineio.client").setLevel(logging.CRITICAL)
    tokens = sign_in_agents(stack, plan.agents)
    outcome = Outcome(plan, Observations())
    cpu_before = time.process_time()
    asyncio.run(_drive(stack, plan, tokens, outcome, progress))
    outcome.client_cpu_s = time.process_time() - cpu_before
    outcome.load_average = os.getloadavg()[:2]
    return outcome


async def _drive(
    stack: Stack, plan: Plan, tokens: list[str], outcome: Outcome, progress: bool
) -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()

    def clock() -> float:
        return loop.time() - start

    seen = outcome.seen
    stage = Stage(plan, seen, clock)
    rng = random.Random(plan.seed)
    turns = faq_turns()
    stop = asyncio.Event()
    async with new_session(connections=0) as session:
        agents = [
            Agent(index, stage, random.Random(rng.random()), token, stack.handoff_url)
            for index, token in enumerate(tokens)
        ]
        streams = [asyncio.create_task(agent.follow_stream(session)) for agent in agents]
        await _until_streams_open(agents, streams)
        start = loop.time()  # the run's clock starts once every agent is on duty
        outcome.processes = watch_servers(stack)
        socket_customers = [
            SocketCustomer(
                index,
                stage,
                random.Random(rng.random()),
                turns,
                wants_person=rng.random() < plan.handoff_share,
            )
            for index in range(plan.customers - plan.rest_customers)
        ]
        rest_customers = [
            RestCustomer(index, stage, random.Random(rng.random()), turns)
            for index in range(len(socket_customers), plan.customers)
        ]
        sampler = asyncio.create_task(_sample(outcome.processes))
        working = [
            *(asyncio.create_task(agent.run(session)) for agent in agents),
            *(
                asyncio.create_task(customer.run(session, stack.public_url))
                for customer in rest_customers
            ),
        ]
        listening = [
            asyncio.create_task(customer.run(session, stack.public_url, stop))
            for customer in socket_customers
        ]
        talking = [customer.done_talking for customer in socket_customers]
        with _bar(progress, plan.duration_s, "load") as bar:
            while clock() < plan.duration_s:
                await asyncio.sleep(min(1.0, plan.duration_s - clock()))
                bar.update(round(clock()) - bar.n)
                bar.set_postfix_str(_status(seen), refresh=False)
        wound_down = loop.time()
        await asyncio.wait(working, timeout=WIND_DOWN_S)
        while (
            not all(event.is_set() for event in talking) and loop.time() - wound_down < WIND_DOWN_S
        ):
            await asyncio.sleep(0.2)
        drained = loop.time()
        with _bar(progress, plan.drain_s, "drain") as bar:
            while _in_flight(seen) and loop.time() - drained < plan.drain_s:
                await asyncio.sleep(0.5)
                bar.update(round(loop.time() - drained) - bar.n)
                bar.set_postfix_str(f"{_in_flight(seen)} messages in flight", refresh=False)
        outcome.drain_s = loop.time() - drained
        outcome.wall_s = clock()
        stop.set()
        sampler.cancel()
        for usage in outcome.processes:
            usage.sample()
        for task in working:
            task.cancel()
        await asyncio.gather(*working, *listening, return_exceptions=True)
        await close_streams(streams)


async def _until_streams_open(agents: list[Agent], streams: list[asyncio.Task[None]]) -> None:
    """Wait until every agent's stream is open (an agent on duty), or fail."""
    opened = [asyncio.ensure_future(agent.stream_open.wait()) for agent in agents]
    done, _ = await asyncio.wait(opened, timeout=30)
    if len(done) < len(agents):
        await close_streams(streams)
        raise RuntimeError(f"only {len(done)} of {len(agents)} agents' streams opened")


async def _sample(usages: list[procfs.Usage]) -> None:
    while True:
        for usage in usages:
            usage.sample()
        await asyncio.sleep(SAMPLE_EVERY_S)


def _in_flight(seen: Observations) -> int:
    return seen.customer_to_agent().undelivered() + seen.agent_to_customer.undelivered()


def _status(seen: Observations) -> str:
    return (
        f"questions {len(seen.questions)} (no reply {seen.unanswered()}), "
        f"handoffs {seen.events['handoffs confirmed to the customer']}, "
        f"to agents {sum(map(len, seen.customer_sent.sent_at.values()))}, "
        f"to customers {sum(map(len, seen.agent_to_customer.sent_at.values()))}, "
        f"errors {sum(seen.errors.values())}"
    )


@contextmanager
def _bar(shown: bool, seconds: float, name: str) -> Iterator[tqdm]:
    with tqdm(
        total=round(seconds),
        desc=name,
        disable=not shown,
        bar_format="{desc}: {bar:20}| {n}/{total} s{postfix}",
    ) as bar:
        yield bar


def summary_rows(outcome: Outcome) -> list[Row]:
    """Return every figure of the run, the issue's targets beside them."""
    seen = outcome.seen
    rows = []
    for direction, ledger_tally in (
        ("customer → agent", outcome.customer_to_agent),
        ("agent → customer", outcome.agent_to_customer),
    ):
        rows += [
            Row(f"{direction}: sent", ledger_tally.sent, ""),
            Row(f"{direction}: delivered", ledger_tally.delivered, ""),
            Row(f"{direction}: lost", ledger_tally.lost, "", target=0),
            Row(f"{direction}: doubled", ledger_tally.doubled, "", target=0),
            Row(f"{direction}: out of order", ledger_tally.out_of_order, "", target=0),
        ]
        if ledger_tally.unexpected:
            rows.append(
                Row(f"{direction}: unexpected", ledger_tally.unexpected, "", note="never sent")
            )
    bot = summarize([1000 * latency for _, latency, _ in seen.questions if latency is not None])
    to_customer = summarize([1000 * s for _, s in seen.agent_to_customer.latencies()])
    to_agent = summarize([1000 * s for _, s in seen.customer_to_agent().latencies()])
    rows += [
        Row("questions asked", len(seen.questions), ""),
        Row("  without a bot reply", seen.unanswered(), "", target=0, note="each gets a reply"),
        Row(
            "  replied with another text",
            sum(seen.misanswers.values()),
            "",
            note="; ".join(f"{count} x {text!r}" for text, count in seen.misanswers.most_common(3)),
        ),
        Row("bot reply p50", bot.p50, "ms"),
        Row("bot reply p95", bot.p95, "ms", target=BOT_REPLY_P95_TARGET_MS),
        Row("bot reply p99", bot.p99, "ms", note=f"max {bot.max:,.0f} ms"),
        Row("agent → customer p50", to_customer.p50, "ms"),
        Row("agent → customer p95", to_customer.p95, "ms", target=AGENT_TO_CUSTOMER_P95_TARGET_MS),
        Row("agent → customer p99", to_customer.p99, "ms", note=f"max {to_customer.max:,.0f} ms"),
        Row("customer → agent p50", to_agent.p50, "ms"),
        Row("customer → agent p95", to_agent.p95, "ms"),
        Row("customer → agent p99", to_agent.p99, "ms"),
    ]
    rows += [Row(name, count, "") for name, count in sorted(seen.events.items())]
    rows += [Row(f"error: {kind}", count, "") for kind, count in seen.errors.most_common()]
    wall = outcome.wall_s
    for usage in outcome.processes:
        rows += [
            Row(
                f"{usage.label} {usage.pid} CPU",
                usage.cpu_percent(wall),
                "% of a core",
                note="EXITED during the run" if usage.gone else "",
            ),
            Row(
                f"{usage.label} {usage.pid} RSS peak",
                usage.rss_peak_mib,
                "MiB",
                note=f"{usage.rss_end_mib:.0f} MiB at the end",
            ),
        ]
    rows.append(Row("load client CPU", 100 * outcome.client_cpu_s / wall, "% of a core"))
    return rows


def notes(outcome: Outcome) -> list[str]:
    """Return what a reader needs to judge the figures."""
    plan = outcome.plan
    return [
        f"Run: {plan.customers} customers ({plan.rest_customers} REST, the rest socket.io, "
        f"{plan.handoff_share:.0%} of those ask for a person) and {plan.agents} agents for "
        f"{plan.duration_s:.0f} s; customer pauses {plan.customer_pause_s:g} s and agent pauses "
        f"{plan.agent_pause_s:g} s on average (exponential); drained {outcome.drain_s:.0f} s.",
        "Targets are the issue's, set for the default run (200 customers and 20 agents for "
        "5 minutes); 0 lost, doubled and out of order hold for any run.",
        f"Machine: {os.cpu_count()} cores, shared; load average {outcome.load_average[0]:.1f} "
        f"(1 min) and {outcome.load_average[1]:.1f} (5 min) at the end, the stack and this "
        "client included.",
        "A customer message counts when written after the bot confirmed the handoff and "
        "before the customer saw the bot back (even as the agent resolved); it must reach the "
        "stream of the agent who took the conversation. An agent message counts when the API "
        "accepted it (201). Lost: not arrived by the end of the drain. A socket that "
        "reconnects names the last message it had, as the widget does, and gets what it "
        "missed.",
        f"A question counts as unanswered after {plan.reply_timeout_s:.0f} s (so bot reply "
        "latencies stop there); a reply later than that is taken for the next question's.",
    ]


def charts(outcome: Outcome) -> list[Chart]:
    """Draw latency over time with the throughput behind it, and the latency CDFs."""
    seen = outcome.seen
    end = outcome.wall_s
    width = max(5.0, round(outcome.plan.duration_s / 30))
    answered = [(at, 1000 * s) for at, s, _ in seen.questions if s is not None]
    to_customer = [(at, 1000 * s) for at, s in seen.agent_to_customer.latencies()]
    to_agent = [(at, 1000 * s) for at, s in seen.customer_to_agent().latencies()]

    def p95(pairs: list[tuple[float, float]]) -> list[float]:
        return percentile_per_window(
            [at for at, _ in pairs], [value for _, value in pairs], width, end, 95
        )

    def written(ledger_sent: dict[str, dict[str, float]]) -> list[float]:
        return [at for messages in ledger_sent.values() for at in messages.values()]

    return [
        Chart(
            "Latency over the run (p95 per window) and throughput",
            {
                "bot reply p95": p95(answered),
                "agent → customer p95": p95(to_customer),
                "customer → agent p95": p95(to_agent),
            },
            kind="timeline",
            x=windows(end, width),
            xlabel=f"seconds into the run ({width:.0f} s windows)",
            rates={
                "questions/s": rate_per_window([at for at, _, _ in seen.questions], width, end),
                "agent messages/s": rate_per_window(
                    written(seen.agent_to_customer.sent_at), width, end
                ),
                "customer → agent messages/s": rate_per_window(
                    written(seen.customer_sent.sent_at), width, end
                ),
            },
            rate_label="messages per second",
            caption=f"Targets: bot reply p95 < {BOT_REPLY_P95_TARGET_MS:.0f} ms, agent → "
            f"customer p95 < {AGENT_TO_CUSTOMER_P95_TARGET_MS:.0f} ms. A point is missing "
            "where a window had no such message; the run ends at "
            f"{outcome.plan.duration_s:.0f} s and the drain follows.",
        ),
        Chart(
            "Latency of every message",
            {
                "bot reply": [value for _, value in answered],
                "agent → customer": [value for _, value in to_customer],
                "customer → agent": [value for _, value in to_agent],
            },
            caption="From the moment the message was written to its arrival on the other side.",
        ),
    ]


def beside(rows: list[Row], baseline: list[Row]) -> list[Row]:
    """Give each row the baseline run's figure of the same name; add the baseline's own
    process rows (their names carry ports and pids) after them."""
    figures = {row.name: row.value for row in baseline}
    return [replace(row, baseline=figures.get(row.name)) for row in rows] + [
        replace(row, name=f"baseline {row.name}", target=None)
        for row in baseline
        if row.name not in {row.name for row in rows}
    ]


def report(outcome: Outcome, path: Path, baseline: Outcome | None = None) -> Path:
    """Print the summary and write the HTML report with its raw figures beside it."""
    rows, run_notes = summary_rows(outcome), notes(outcome)
    if baseline is not None:
        rows = beside(rows, summary_rows(baseline))
        run_notes.append(
            "Baseline: the same crowd on the embedded stack (`make run`), started and driven "
            "first in the same command; the scaled-out stack's figures are the value column."
        )
    title = "Load: customers and agents on the real stack"
    print(f"\n{title}\n{format_summary(rows)}")
    for note in run_notes:
        print(f"- {note}")
    missed = [row.name for row in rows if row.verdict == "FAIL"]
    print("MISSED TARGETS: " + "; ".join(missed) if missed else "Every target met.")
    written = write_report(path, title, rows, charts(outcome), run_notes)
    raw = {
        "plan": asdict(outcome.plan),
        "customer_to_agent": asdict(outcome.customer_to_agent),
        "agent_to_customer": asdict(outcome.agent_to_customer),
        "questions": outcome.seen.questions,
        "errors": dict(outcome.seen.errors),
        "events": dict(outcome.seen.events),
        # To look each one up in the servers' logs: (conversation, message id, written at).
        "lost": {
            "customer_to_agent": outcome.seen.customer_to_agent().missing(),
            "agent_to_customer": outcome.seen.agent_to_customer.missing(),
        },
        "socket_drops": outcome.seen.drops,
    }
    written.with_suffix(".json").write_text(json.dumps(raw))
    print(f"report: {written} (raw figures in {written.with_suffix('.json').name})")
    return written


@contextmanager
def stack_for(env_file: Path | None, scaled: bool = False) -> Iterator[Stack]:
    """Start a private stack (scaled out, or not), or describe the running one an env file
    configures."""
    if env_file is None:
        with (
            tempfile.TemporaryDirectory(prefix="load-") as workdir,
            (running_scaled_stack if scaled else running_stack)(Path(workdir)) as stack,
        ):
            yield stack
        return
    defaults = (REPO_ROOT / ".env.example").read_text().splitlines()
    env = dict(filter(None, map(parse_line, [*defaults, *env_file.read_text().splitlines()])))
    stack = Stack(env={key: value.strip("'\"") for key, value in env.items()}, log_path=env_file)
    for url in (
        f"{stack.rasa_url}/",
        f"{stack.actions_url}/health",
        f"{stack.handoff_url}/healthz",
    ):
        try:
            requests.get(url, timeout=5).raise_for_status()
        except requests.RequestException as error:
            raise SystemExit(f"the stack of {env_file} does not answer at {url}: {error}") from None
    yield stack


def parse_plan(argv: list[str] | None) -> tuple[Plan, argparse.Namespace]:
    """Read the command line into a plan."""
    defaults = Plan()
    parser = argparse.ArgumentParser(
        prog="python -m bench.crowd",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="about a minute, a few customers")
    for item in fields(Plan):
        option = "--" + item.name.removesuffix("_s").replace("_", "-")
        parser.add_argument(
            option,
            dest=item.name,
            type=type(getattr(defaults, item.name)),
            default=None,
            help=f"default {getattr(defaults, item.name)}"
            + (" s" if item.name.endswith("_s") else ""),
        )
    parser.add_argument(
        "--env-file", type=Path, help="drive the running stack this .env configures"
    )
    parser.add_argument(
        "--scaled",
        action="store_true",
        help="start the private stack scaled out, as `make run-scaled` (deploy/scaled.env)",
    )
    parser.add_argument(
        "--beside-embedded",
        action="store_true",
        help="with --scaled: drive the embedded stack first, as the baseline",
    )
    parser.add_argument("--report", type=Path, default=REPORT_PATH, help="HTML report to write")
    args = parser.parse_args(argv)
    if args.beside_embedded and not args.scaled:
        parser.error("--beside-embedded compares the scaled-out stack: add --scaled")
    plan = quick(defaults) if args.quick else defaults
    chosen = {item.name: getattr(args, item.name) for item in fields(Plan)}
    try:
        plan = Plan(**{**asdict(plan), **{k: v for k, v in chosen.items() if v is not None}})
    except ValueError as error:
        parser.error(str(error))
    return plan, args


def main(argv: list[str] | None = None) -> int:
    """Run the load and print its figures."""
    plan, args = parse_plan(argv)
    print(
        f"load average {os.getloadavg()[0]:.1f}; "
        + (
            f"starting a private{' scaled-out' if args.scaled else ''} stack"
            if args.env_file is None
            else f"using the stack of {args.env_file}"
        ),
        flush=True,
    )
    baseline = None
    if args.beside_embedded:
        print("the baseline first: the embedded stack", flush=True)
        with stack_for(None) as stack:
            baseline = run_load(stack, plan)
    with stack_for(args.env_file, args.scaled) as stack:
        outcome = run_load(stack, plan)
    report(outcome, args.report, baseline)
    return 0


if __name__ == "__main__":
    sys.exit(main())
