"""Fill a handoff database with a month of realistic conversations, for the reports and their bench.

    .venv-handoff/bin/python -m scripts.seed_reports 10000 [--days 30] [--database-url URL]

Writes `N` handed-off conversations (queued, then claimed and resolved, some rated; a few
abandoned or left as messages), with their state transitions, and twice as many the bot
served alone; every conversation has the FAQ decisions it took, and each don't-know an
unanswered question. Traffic follows the working day and the week (busier afternoons and
weekends, quiet nights); waits grow with the hour's load. A fixed seed makes every run
write the same rows. Names and contacts are made up (example.com, 555 numbers).
"""

from __future__ import annotations

import argparse
import math
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from handoff_server.db import (
    Database,
    conversations,
    faq_decisions,
    make_engine,
    migrate,
    transitions,
    unanswered_questions,
)
from handoff_server.event_log import record_event
from handoff_server.queueing import REASON_PRIORITY
from handoff_server.settings import DEFAULT_TEAM, load_env_file, load_settings
from lumen.vocabulary import HandoffReason

SEED = 13
BOT_ALONE_PER_HANDOFF = 2
BATCH = 2000
# Relative traffic per UTC hour of the day, and per weekday (Monday first).
HOURLY = (1, 1, 1, 1, 1, 2, 4, 7, 9, 10, 10, 11, 11, 10, 10, 11, 12, 12, 10, 8, 6, 4, 2, 1)
DAILY = (1.0, 0.9, 0.9, 1.0, 1.2, 1.4, 1.3)
REASONS = {
    HandoffReason.CUSTOMER_REQUEST: 0.45,
    HandoffReason.REPEATED_MISSES: 0.25,
    HandoffReason.FRUSTRATION: 0.15,
    HandoffReason.SENSITIVE_TOPIC: 0.1,
    HandoffReason.BOT_FAILURE: 0.05,
}
FAQ_IDS = (
    "wifi_access",
    "dining_hours",
    "luggage_allowance",
    "pets_on_board",
    "wheelchair_cabins",
    "refund_timeline",
    "cancellation_policy",
    "boarding_time",
)
UNANSWERED = (
    "is there a sauna on board",
    "can i bring my drone",
    "do you sell sim cards",
    "where can i charge an e-bike",
    "is the river high this week",
    "can i fish from the deck",
    "are there vegan cooking classes",
    "do you have a chess club",
    "can i get my suit pressed",
    "is there a piano i can play",
)
FIRST_NAMES = ("Maria", "John", "Aiko", "Lars", "Fatima", "Tom", "Ines", "Ravi", "Ola", "Chen")


@dataclass
class Rows:
    """The rows of one batch, by table."""

    conversations: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    questions: list[dict[str, Any]] = field(default_factory=list)


def _moment(rng: random.Random, start: float, end: float) -> float:
    """A time from `start` to `end`, following the hourly and weekly pattern (UTC)."""
    first_day = math.floor(start / 86400)
    while True:
        day = first_day + rng.randrange(math.ceil(end / 86400) - first_day)
        hour = rng.choices(range(24), weights=HOURLY)[0]
        moment = day * 86400 + hour * 3600 + rng.random() * 3600
        weekday = (day + 3) % 7
        # Leave room for the conversation to end before `end`.
        if start <= moment < end - 3600 and rng.random() < DAILY[weekday] / max(DAILY):
            return moment


def _decisions(
    rng: random.Random, rows: Rows, sender: str, channel: str, at: float, misses: bool
) -> None:
    for turn in range(rng.randint(1, 4)):
        kind = rng.choices(("answer", "suggest", "none"), weights=(70, 18, 12))[0]
        if misses and turn == 0:
            kind = "none"
        moment = at + turn * rng.uniform(10, 60)
        rows.decisions.append(
            {
                "sender_id": sender,
                "channel": channel,
                "kind": kind,
                "faq_id": rng.choice(FAQ_IDS) if kind == "answer" else None,
                "created_at": moment,
            }
        )
        if kind == "none":
            rows.questions.append(
                {
                    "sender_id": sender,
                    "channel": channel,
                    "text": rng.choice(UNANSWERED),
                    "outcome": "none",
                    "suggestions": [],
                    "status": "open",
                    "created_at": moment,
                }
            )


def _handoff(rng: random.Random, rows: Rows, index: int, start: float, end: float) -> None:
    sender = f"seed-{index:06d}"
    channel = "kiosk" if rng.random() < 0.2 else "web"
    created = _moment(rng, start, end)
    reason = rng.choices(list(REASONS), weights=list(REASONS.values()))[0]
    _decisions(rng, rows, sender, channel, created - 120, reason is HandoffReason.REPEATED_MISSES)
    hour_load = HOURLY[int(created // 3600) % 24] / max(HOURLY)
    # Waits are long-tailed and grow with the hour's traffic.
    wait = rng.lognormvariate(math.log(45 + 200 * hour_load), 0.8)
    fate = rng.random()
    state = "resolved" if fate < 0.9 else ("abandoned" if fate < 0.96 else "offline")
    assigned = created + wait if state == "resolved" else None
    closed = (assigned or created + wait / 2) + rng.uniform(120, 900)
    name = rng.choice(FIRST_NAMES)
    rows.conversations.append(
        {
            "sender_id": sender,
            "channel": channel,
            "page_url": "https://lumen.example/cruises" if channel == "web" else None,
            "kiosk_id": "reception-2" if channel == "kiosk" else None,
            "kiosk_location": "Reception, deck 2" if channel == "kiosk" else None,
            "locale": "en",
            "customer_name": name,
            "customer_email": f"{name.lower()}.{index}@example.com",
            "customer_phone": None,
            "reason": reason.value,
            "priority": REASON_PRIORITY[reason],
            "sentiment": round(rng.uniform(-0.9, 0.3), 2),
            "summary": f"Seeded conversation {index}.",
            "tags": [],
            "team": DEFAULT_TEAM,
            "state": state,
            "last_seq": 0,
            "offline_contact": f"{name.lower()}@example.com" if state == "offline" else None,
            "rating": rng.choices((1, 2, 3, 4, 5), weights=(5, 5, 15, 35, 40))[0]
            if state == "resolved" and rng.random() < 0.6
            else None,
            "created_at": created,
            "assigned_at": assigned,
            "closed_at": closed,
        }
    )


def generate(count: int, days: int, end: float, seed: int = SEED) -> Iterator[Rows]:
    """Yield the rows of `count` handoffs and their bot-alone companions, in batches."""
    rng = random.Random(seed)
    start = end - days * 86400
    rows = Rows()
    for index in range(count):
        _handoff(rng, rows, index, start, end)
        for alone in range(BOT_ALONE_PER_HANDOFF):
            sender = f"seed-bot-{index:06d}-{alone}"
            channel = "kiosk" if rng.random() < 0.3 else "web"
            _decisions(rng, rows, sender, channel, _moment(rng, start, end), misses=False)
        if len(rows.conversations) >= BATCH:
            yield rows
            rows = Rows()
    if rows.conversations:
        yield rows


def _transitions(conn: sa.Connection, ids: list[int], batch: list[dict[str, Any]]) -> None:
    steps = []
    for conversation_id, row in zip(ids, batch, strict=True):
        steps.append(("bot", "queued", "bot", row["created_at"], conversation_id))
        if row["assigned_at"] is not None:
            steps.append(("queued", "assigned", "seed", row["assigned_at"], conversation_id))
        closed_from = "assigned" if row["assigned_at"] else "queued"
        actor = "seed" if row["state"] == "resolved" else "customer"
        steps.append((closed_from, row["state"], actor, row["closed_at"], conversation_id))
    conn.execute(
        transitions.insert(),
        [
            {"from_state": a, "to_state": b, "actor": who, "created_at": at, "conversation_id": c}
            for a, b, who, at, c in steps
        ],
    )


def seed(db: Database, count: int, days: int = 30, end: float | None = None) -> dict[str, int]:
    """Write the seeded rows; return how many of each were written."""
    written = {"conversations": 0, "faq_decisions": 0, "unanswered_questions": 0}
    for rows in generate(count, days, time.time() if end is None else end):
        with db.write() as conn:
            ids = list(
                conn.execute(
                    conversations.insert().returning(
                        conversations.c.id, sort_by_parameter_order=True
                    ),
                    rows.conversations,
                ).scalars()
            )
            _transitions(conn, ids, rows.conversations)
            conn.execute(faq_decisions.insert(), rows.decisions)
            if rows.questions:
                conn.execute(unanswered_questions.insert(), rows.questions)
            # One event, so consoles and cached lists see the new rows.
            record_event(conn, "conversation", {"seeded": len(rows.conversations)}, time.time())
        written["conversations"] += len(rows.conversations)
        written["faq_decisions"] += len(rows.decisions)
        written["unanswered_questions"] += len(rows.questions)
    return written


def main(argv: list[str] | None = None) -> int:
    """Seed the database of DATABASE_URL (or --database-url) and say what was written."""
    parser = argparse.ArgumentParser(prog="python -m scripts.seed_reports", description=__doc__)
    parser.add_argument("count", type=int, help="handed-off conversations to write")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--database-url")
    args = parser.parse_args(argv)
    if args.count < 1 or not 1 <= args.days <= 366:
        parser.error("count must be at least 1 and days between 1 and 366")
    load_env_file()
    engine = make_engine(args.database_url or load_settings().database_url)
    migrate(engine)
    started = time.perf_counter()
    written = seed(Database(engine), args.count, args.days)
    took = time.perf_counter() - started
    print(", ".join(f"{count} {table}" for table, count in written.items()) + f" in {took:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
