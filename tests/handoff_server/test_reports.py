"""Supervisors' reports: aggregates per day and hour, CSV export, and what they refuse."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest

from handoff_server import faq_decisions
from handoff_server.db import conversations, unanswered_questions
from handoff_server.reports import REPORTS, median_of_counts

# Monday 2 November 2026, 00:00 UTC.
MONDAY = datetime(2026, 11, 2, tzinfo=UTC).timestamp()
HOUR = 3600.0
DAY = 86400.0
RANGE = "from=2026-11-02&to=2026-11-04"


def add_conversation(
    services: Any,
    sender_id: str,
    created_at: float,
    reason: str = "customer_request",
    wait_s: float | None = None,
    rating: int | None = None,
) -> None:
    """Store a handoff as the store leaves it: claimed after `wait_s`, closed and rated."""
    with services.db.write() as conn:
        conn.execute(
            conversations.insert().values(
                sender_id=sender_id,
                channel="web",
                reason=reason,
                priority=2,
                tags=[],
                team="general",
                state="resolved" if wait_s is not None else "abandoned",
                last_seq=0,
                rating=rating,
                created_at=created_at,
                assigned_at=None if wait_s is None else created_at + wait_s,
                closed_at=created_at + (wait_s or 0) + 300,
                customer_name="Maria Lopez",
                customer_email="maria@example.com",
            )
        )


def decide(services: Any, sender_id: str, kind: str, at: float) -> None:
    faq_decisions.record(
        services.db, {"sender_id": sender_id, "channel": "web", "kind": kind}, now=at
    )


def rows(client: Any, headers: dict[str, str], name: str, query: str = RANGE) -> list[Any]:
    response = client.get(f"/api/reports/{name}?{query}", headers=headers)
    assert response.status_code == 200, response.json
    return list(response.json["rows"])


@pytest.fixture
def sue(agent_headers: Any) -> dict[str, str]:
    return dict(agent_headers("sue"))


def test_containment_counts_conversations_the_bot_served_alone_and_those_handed_off(
    client, services, sue
):
    # Monday: two customers served by the bot alone (one asked three times), one handed off
    # after a miss. Tuesday: one customer asked for a person straight away.
    for kind in ("answer", "suggest", "answer"):
        decide(services, "alone-1", kind, MONDAY + 9 * HOUR)
    decide(services, "alone-2", "answer", MONDAY + 10 * HOUR)
    decide(services, "handed-1", "none", MONDAY + 11 * HOUR)
    add_conversation(services, "handed-1", MONDAY + 11 * HOUR + 60, wait_s=40)
    add_conversation(services, "handed-2", MONDAY + DAY + 8 * HOUR, wait_s=20)

    assert rows(client, sue, "containment") == [
        {"day": "2026-11-02", "bot_alone": 2, "handed_off": 1, "containment": 0.6667},
        {"day": "2026-11-03", "bot_alone": 0, "handed_off": 1, "containment": 0.0},
        {"day": "2026-11-04", "bot_alone": 0, "handed_off": 0, "containment": None},
    ]


def test_handoffs_by_reason_lists_every_reason(client, services, sue):
    add_conversation(services, "a", MONDAY + HOUR, reason="frustration")
    add_conversation(services, "b", MONDAY + 2 * HOUR, reason="frustration")
    add_conversation(services, "c", MONDAY + 3 * HOUR, reason="bot_failure")
    add_conversation(services, "outside", MONDAY - HOUR, reason="bot_failure")

    counts = {row["reason"]: row["handoffs"] for row in rows(client, sue, "handoff-reasons")}
    assert counts == {
        "customer_request": 0,
        "repeated_misses": 0,
        "frustration": 2,
        "sensitive_topic": 0,
        "bot_failure": 1,
    }


def test_waits_fall_in_bars_and_the_median_is_per_hour(client, services, sue):
    for index, wait in enumerate((10, 20, 95, 700)):
        add_conversation(services, f"nine-{index}", MONDAY + 9 * HOUR + index, wait_s=wait)
    add_conversation(services, "ten", MONDAY + 10 * HOUR, wait_s=2000)
    add_conversation(services, "never claimed", MONDAY + 10 * HOUR + 5)

    bars = {row["label"]: row["conversations"] for row in rows(client, sue, "wait-times")}
    assert bars == {
        "0 s to 30 s": 2,
        "30 s to 1 min": 0,
        "1 min to 2 min": 1,
        "2 min to 5 min": 0,
        "5 min to 10 min": 0,
        "10 min to 30 min": 1,
        "30 min+": 1,
    }
    by_hour = {row["hour"]: row for row in rows(client, sue, "wait-by-hour")}
    assert by_hour[9] == {"hour": 9, "claimed": 4, "median_wait_s": 57.5}
    assert by_hour[10] == {"hour": 10, "claimed": 1, "median_wait_s": 2000.0}
    assert by_hour[11] == {"hour": 11, "claimed": 0, "median_wait_s": None}


def test_ratings_are_averaged_per_day_closed(client, services, sue):
    add_conversation(services, "a", MONDAY + HOUR, wait_s=10, rating=5)
    add_conversation(services, "b", MONDAY + 2 * HOUR, wait_s=10, rating=2)
    add_conversation(services, "c", MONDAY + 3 * HOUR, wait_s=10)

    assert rows(client, sue, "ratings")[0] == {
        "day": "2026-11-02",
        "ratings": 2,
        "mean_rating": 3.5,
    }


def test_busiest_hours_are_per_weekday_and_hour(client, services, sue):
    add_conversation(services, "mon-9", MONDAY + 9 * HOUR)
    add_conversation(services, "mon-9b", MONDAY + 9 * HOUR + 600)
    add_conversation(services, "wed-23", MONDAY + 2 * DAY + 23 * HOUR)

    busy = {
        (row["weekday"], row["hour"]): row["handoffs"] for row in rows(client, sue, "busiest-hours")
    }
    assert len(busy) == 7 * 24
    assert busy[("Mon", 9)] == 2
    assert busy[("Wed", 23)] == 1
    assert sum(busy.values()) == 3


def test_faq_outcomes_are_shares_of_every_decision(client, services, sue):
    for index, kind in enumerate(("answer", "answer", "answer", "suggest", "none")):
        decide(services, f"s{index}", kind, MONDAY + HOUR)

    assert [
        (row["outcome"], row["decisions"], row["share"])
        for row in rows(client, sue, "faq-outcomes")
    ] == [("answer", 3, 0.6), ("suggest", 1, 0.2), ("none", 1, 0.2)]


def test_top_unanswered_questions_group_the_same_words(client, services, sue):
    with services.db.write() as conn:
        for index, text in enumerate(("Is there a sauna", "is there a sauna ", "drone?")):
            conn.execute(
                unanswered_questions.insert().values(
                    sender_id=f"s{index}",
                    channel="web",
                    text=text,
                    outcome="none",
                    suggestions=[],
                    status="open",
                    created_at=MONDAY + index,
                )
            )

    top = rows(client, sue, "unanswered")
    assert [(row["question"].strip().lower(), row["times_asked"]) for row in top] == [
        ("is there a sauna", 2),
        ("drone?", 1),
    ]


def test_the_decisions_the_action_server_posts_count_today(client, service, sue):
    posted = client.post(
        "/api/faq-decisions",
        json={"sender_id": "today", "channel": "kiosk", "kind": "answer", "faq_id": "wifi"},
        headers=service,
    )
    assert posted.status_code == 201

    shares = rows(client, sue, "faq-outcomes", query="")
    assert shares[0] == {"outcome": "answer", "label": "Answered", "decisions": 1, "share": 1.0}


def test_csv_export_has_a_header_no_personal_data_and_no_formulas(client, services, sue):
    add_conversation(services, "handed-1", MONDAY + HOUR, wait_s=30)
    with services.db.write() as conn:
        conn.execute(
            unanswered_questions.insert().values(
                sender_id="s",
                channel="web",
                text='=HYPERLINK("http://evil")',
                outcome="none",
                suggestions=[],
                status="open",
                created_at=MONDAY,
            )
        )

    response = client.get(f"/api/reports/unanswered.csv?{RANGE}", headers=sue)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "unanswered_2026-11-02_2026-11-04.csv" in response.headers["Content-Disposition"]
    table = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert table[0] == ["question", "times_asked", "last_asked"]
    assert table[1][0] == '\'=HYPERLINK("http://evil")'

    for report in REPORTS:
        exported = client.get(f"/api/reports/{report.name}.csv?{RANGE}", headers=sue)
        text = exported.get_data(as_text=True)
        assert exported.status_code == 200
        assert text.splitlines()[0] == ",".join(report.columns)
        assert "maria" not in text.lower() and "handed-1" not in text


@pytest.mark.parametrize(
    "query, problem",
    [
        ("from=2026-11-05&to=2026-11-01", "is after"),
        ("from=2026-02-30", "real dates"),
        ("from=yesterday", "must match"),
        ("from=2020-01-01&to=2026-01-01", "at most 366 days"),
        ("to=2026-11-0" + "1" * 20, "longer than"),
    ],
)
def test_a_bad_date_range_is_refused_saying_why(client, sue, query, problem):
    response = client.get(f"/api/reports/containment?{query}", headers=sue)
    assert response.status_code == 400
    assert problem in response.json["message"]


def test_reports_are_for_supervisors_and_admins_only(client, agent_headers):
    assert client.get("/api/reports/containment").status_code == 401
    assert client.get("/api/reports/containment.csv").status_code == 401
    assert client.get("/api/reports/ratings", headers=agent_headers("alice")).status_code == 403
    assert client.get("/api/reports/ratings", headers=agent_headers("ada")).status_code == 200
    assert client.get("/api/reports/nonsense", headers=agent_headers("ada")).status_code == 404


def test_only_the_action_server_records_decisions_and_bad_ones_are_refused(client, service, sue):
    decision = {"sender_id": "x", "channel": "web", "kind": "answer"}
    assert client.post("/api/faq-decisions", json=decision, headers=sue).status_code == 401
    refused = client.post("/api/faq-decisions", json={**decision, "kind": "maybe"}, headers=service)
    assert refused.status_code == 400
    assert "kind" in refused.json["message"]


def test_the_reports_are_documented_with_their_rows(client):
    paths = client.get("/api/openapi.json").json["paths"]
    containment = paths["/api/reports/containment"]["get"]
    rows_schema = containment["responses"]["200"]["content"]["application/json"]["schema"]
    assert rows_schema["properties"]["rows"]["items"]["required"] == [
        "day",
        "bot_alone",
        "handed_off",
        "containment",
    ]
    assert containment["x-required-role"] == "supervisor"
    assert "text/csv" in paths["/api/reports/containment.csv"]["get"]["responses"]["200"]["content"]


def test_the_median_of_counted_values():
    assert median_of_counts({}) is None
    assert median_of_counts({5: 1}) == 5
    assert median_of_counts({1: 2, 9: 2}) == 5
    assert median_of_counts({1: 1, 2: 5, 100: 1}) == 2
