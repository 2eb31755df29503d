"""The reports' seed script writes a month of conversations the reports count back exactly."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import sqlalchemy as sa

from handoff_server.db import conversations, faq_decisions
from scripts.seed_reports import seed


def test_a_seeded_month_is_counted_back_by_the_reports(client, services, agent_headers):
    now = time.time()
    written = seed(services.db, 60, days=30, end=now)
    assert written["conversations"] == 60
    sue = agent_headers("sue")
    # The seeded 30 days end now: they touch 31 calendar days.
    days = "?" + "&".join(
        f"{name}={datetime.fromtimestamp(moment, tz=UTC).date()}"
        for name, moment in (("from", now - 30 * 86400), ("to", now))
    )

    reasons = client.get(f"/api/reports/handoff-reasons{days}", headers=sue).json["rows"]
    outcomes = client.get(f"/api/reports/faq-outcomes{days}", headers=sue).json["rows"]
    containment = client.get(f"/api/reports/containment{days}", headers=sue).json["rows"]
    assert sum(row["handoffs"] for row in reasons) == 60
    assert sum(row["decisions"] for row in outcomes) == written["faq_decisions"]
    assert sum(row["handed_off"] for row in containment) == 60
    # Twice as many served by the bot alone (one may count on two days across midnight).
    assert 120 <= sum(row["bot_alone"] for row in containment) <= 125
    with services.db.read() as conn:
        latest = [
            conn.execute(sa.select(sa.func.max(column))).scalar_one()
            for column in (conversations.c.closed_at, faq_decisions.c.created_at)
        ]
    assert max(latest) <= now  # nothing happens in the future
    assert seed(services.db, 60, days=30, end=now) == written  # the same rows every run
