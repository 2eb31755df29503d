"""`make capacity`: raise the crowd step by step on one stack until the assistant breaks.

Each step is a `make load` run (bench.crowd) of a few minutes at a larger number of customers,
one agent per ten, on the same private stack. A step breaks when a message is lost, more than
1% of questions go without a reply, or the bot's reply p95 passes the issue's 2 s. The run
stops after the first broken step and reports where it broke, with a chart of the latencies
and of the questions answered per second at each step, and whether the customers who waited
were told the bot was busy (honest degradation: a busy notice before a late reply, or a
message refused at once by a full Rasa, bot/overload.py, and sent again) rather than left
in silence.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.crowd import BOT_REPLY_P95_TARGET_MS, Outcome, run_load, stack_for
from bench.customers import BUSY_EVENT, REFUSED_EVENT
from bench.plan import MAX_CUSTOMERS, Plan
from bench.report import Chart, Row, format_summary, say, write_report
from bench.stats import summarize
from scripts.stack import REPO_ROOT

REPORT_PATH = REPO_ROOT / "reports" / "load" / "capacity.html"
STEPS = (100, 200, 300, 450, 600, 800)
UNANSWERED_SHARE_LIMIT = 0.01


@dataclass(frozen=True)
class Step:
    """The figures of one step that say whether the assistant held."""

    customers: int
    bot_p95_ms: float
    agent_p95_ms: float
    answered_per_s: float
    unanswered: int
    questions: int
    lost_to_agents: int
    lost_to_customers: int
    busy_notices: int
    refused: int  # messages a full Rasa refused at once, saying it is busy (sent again)
    errors: str  # the most frequent errors the crowd saw, with counts

    @classmethod
    def of(cls, outcome: Outcome) -> Step:
        seen = outcome.seen
        answered = [1000 * latency for _, latency, _ in seen.questions if latency is not None]
        to_customer = [1000 * s for _, s in seen.agent_to_customer.latencies()]
        return cls(
            customers=outcome.plan.customers,
            bot_p95_ms=summarize(answered).p95,
            agent_p95_ms=summarize(to_customer).p95,
            answered_per_s=len(answered) / outcome.plan.duration_s,
            unanswered=seen.unanswered(),
            questions=len(seen.questions),
            lost_to_agents=outcome.customer_to_agent.lost,
            lost_to_customers=outcome.agent_to_customer.lost,
            busy_notices=seen.events[BUSY_EVENT],
            refused=seen.events[REFUSED_EVENT],
            errors="; ".join(f"{count} x {kind}" for kind, count in seen.errors.most_common(3)),
        )

    @property
    def broken(self) -> str:
        """Return why this step broke, or an empty string if the assistant held."""
        reasons = []
        if self.lost_to_agents or self.lost_to_customers:
            reasons.append(
                f"messages lost: {self.lost_to_agents} customer → agent, "
                f"{self.lost_to_customers} agent → customer"
            )
        if self.unanswered > UNANSWERED_SHARE_LIMIT * max(1, self.questions):
            reasons.append(f"{self.unanswered} of {self.questions} questions without a reply")
        if self.bot_p95_ms > BOT_REPLY_P95_TARGET_MS:
            reasons.append(f"bot reply p95 {self.bot_p95_ms:,.0f} ms")
        return "; ".join(reasons)


def climb(steps: list[int], step_s: float) -> list[Step]:
    """Run the steps on one private stack until one breaks; return the figures of each."""
    measured: list[Step] = []
    with stack_for(None) as stack:
        for customers in steps:
            say(f"{customers} customers for {step_s:.0f} s")
            plan = Plan(
                customers=customers,
                agents=max(2, customers // 10),
                duration_s=step_s,
                drain_s=20.0,
            )
            step = Step.of(run_load(stack, plan))
            measured.append(step)
            say(f"  bot reply p95 {step.bot_p95_ms:,.0f} ms; {step.broken or 'held'}")
            if step.broken:
                break
    return measured


def report(steps: list[Step], step_s: float, path: Path) -> Path:
    """Print and write the figures of every step, where it broke and the chart."""
    held = [step for step in steps if not step.broken]
    broke = next((step for step in steps if step.broken), None)
    rows = [
        Row(
            "most customers held",
            held[-1].customers if held else 0,
            "",
            note=f"broke at {broke.customers}: {broke.broken}" if broke else "never broke",
        )
    ]
    for step in steps:
        rows.append(
            Row(
                f"{step.customers} customers: bot reply p95",
                step.bot_p95_ms,
                "ms",
                target=BOT_REPLY_P95_TARGET_MS,
                note=f"{step.answered_per_s:.1f} answers/s; {step.unanswered} unanswered; "
                f"{step.busy_notices} replies after a busy notice; {step.refused} messages "
                f"refused as busy and sent again; lost {step.lost_to_agents} to agents, "
                f"{step.lost_to_customers} to customers; errors: {step.errors or 'none'}",
            )
        )
    notes = [
        f"Each step: {step_s:.0f} s, one agent per ten customers, 20% of socket.io customers "
        "ask for a person; the same private stack throughout.",
        f"Broken: a lost message, over {UNANSWERED_SHARE_LIMIT:.0%} of questions unanswered, "
        f"or bot reply p95 over {BOT_REPLY_P95_TARGET_MS:.0f} ms.",
    ]
    labels = [str(step.customers) for step in steps]
    charts = [
        Chart(
            "Latency at each step",
            {
                "bot reply p95": [step.bot_p95_ms for step in steps],
                "agent → customer p95": [step.agent_p95_ms for step in steps],
            },
            kind="bar",
            categories=labels,
            xlabel="customers at once",
            target=BOT_REPLY_P95_TARGET_MS,
            caption="The dashed line is the bot reply target.",
        ),
        Chart(
            "Questions answered per second at each step",
            {"answers/s": [step.answered_per_s for step in steps]},
            kind="bar",
            categories=labels,
            xlabel="customers at once",
            ylabel="answers per second",
        ),
    ]
    title = "Capacity: the crowd raised until the assistant breaks"
    print(f"\n{title}\n{format_summary(rows)}")
    for note in notes:
        print(f"- {note}")
    written = write_report(path, title, rows, charts, notes)
    print(f"report: {written}")
    return written


def main(argv: list[str] | None = None) -> int:
    """Climb and report."""
    parser = argparse.ArgumentParser(prog="python -m bench.capacity", description=__doc__)
    parser.add_argument(
        "--steps",
        type=lambda text: [int(n) for n in text.split(",")],
        default=list(STEPS),
        help=f"customers at each step, comma-separated (default {','.join(map(str, STEPS))})",
    )
    parser.add_argument("--step-seconds", type=float, default=120.0, help="length of a step")
    parser.add_argument("--report", type=Path, default=REPORT_PATH, help="HTML report to write")
    args = parser.parse_args(argv)
    if not args.steps or max(args.steps) > MAX_CUSTOMERS:
        parser.error(f"steps must be 1 to {MAX_CUSTOMERS} customers")
    report(climb(args.steps, args.step_seconds), args.step_seconds, args.report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
