"""Supervisors' reports: SQL aggregates over a range of days, as JSON rows or CSV.

Every report is one or two aggregate queries (SQLAlchemy Core, the same SQL on SQLite and
PostgreSQL) over Unix-second columns, bucketed by UTC day and hour with integer arithmetic.
No report carries a customer's name, contact or conversation id; the one free text, an
unanswered question, is stored masked (the action server masks it before recording it).
"""

from __future__ import annotations

import csv
import io
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, jsonify
from sqlalchemy.engine import Connection
from werkzeug.exceptions import BadRequest

from handoff_server import schemas
from handoff_server.auth import require_role
from handoff_server.db import conversations, faq_decisions, unanswered_questions
from handoff_server.openapi import responds
from handoff_server.services import services
from handoff_server.validation import query_args
from lumen.vocabulary import FAQ_DECISION_LABELS, REASON_LABELS, HandoffReason

bp = Blueprint("reports", __name__, url_prefix="/api/reports")

DAY_S = 86400
HOUR_S = 3600
DEFAULT_DAYS = 30
MAX_DAYS = 366
TOP_QUESTIONS = 20
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# 1 January 1970, day 0, was a Thursday (index 3 from Monday).
_EPOCH_WEEKDAY = 3
# Upper bounds (seconds) of the wait-time histogram's bars; the last bar is everything longer.
WAIT_BUCKETS_S = (30, 60, 120, 300, 600, 1800)
# A spreadsheet runs a cell that starts with one of these as a formula: customers' words
# must not run in a supervisor's spreadsheet.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class DateRange:
    """Whole UTC days, first and last included."""

    first: date
    last: date

    @property
    def start_s(self) -> float:
        return datetime(self.first.year, self.first.month, self.first.day, tzinfo=UTC).timestamp()

    @property
    def end_s(self) -> float:
        """The first second after the range."""
        return self.start_s + self.days * DAY_S

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def each_day(self) -> list[date]:
        return [self.first + timedelta(days=offset) for offset in range(self.days)]


def date_range(query: Mapping[str, Any], now: float | None = None) -> DateRange:
    """Read `from` and `to` (YYYY-MM-DD, UTC); default the last 30 days; refuse what cannot be."""
    today = datetime.fromtimestamp(time.time() if now is None else now, tz=UTC).date()
    try:
        last = date.fromisoformat(query["to"]) if "to" in query else today
        first = (
            date.fromisoformat(query["from"])
            if "from" in query
            else last - timedelta(days=DEFAULT_DAYS - 1)
        )
    except ValueError as error:
        raise BadRequest(f"fields 'from' and 'to' must be real dates: {error}") from error
    if first > last:
        raise BadRequest(f"'from' ({first}) is after 'to' ({last})")
    if (last - first).days + 1 > MAX_DAYS:
        raise BadRequest(f"a report covers at most {MAX_DAYS} days")
    return DateRange(first, last)


def _seconds(column: Any) -> Any:
    # BigInteger: PostgreSQL's integer would overflow in 2038.
    return sa.cast(column, sa.BigInteger)


def day_number(column: Any) -> Any:
    """The UTC day (days since 1970) of a Unix-seconds column, in SQL."""
    return _seconds(column) // DAY_S


def hour_of_day(column: Any) -> Any:
    """The UTC hour (0-23) of a Unix-seconds column, in SQL."""
    return (_seconds(column) // HOUR_S) % 24


def weekday(column: Any) -> Any:
    """The UTC weekday (0 Monday to 6 Sunday) of a Unix-seconds column, in SQL."""
    return (day_number(column) + _EPOCH_WEEKDAY) % 7


def _in_range(column: Any, period: DateRange) -> Any:
    return sa.and_(column >= period.start_s, column < period.end_s)


def _day_text(day: int) -> str:
    return (date(1970, 1, 1) + timedelta(days=int(day))).isoformat()


Row = dict[str, Any]


def containment(conn: Connection, period: DateRange) -> list[Row]:
    """Per day: conversations the bot served alone, and conversations handed to a person.

    A conversation is a Rasa sender on a day. Served means at least one FAQ decision; handed
    off means a handoff was created that day (with or without FAQ decisions before it).
    """
    handoff_day = day_number(conversations.c.created_at)
    handed_off = conn.execute(
        sa.select(handoff_day, sa.func.count(sa.distinct(conversations.c.sender_id)))
        .where(_in_range(conversations.c.created_at, period))
        .group_by(handoff_day)
    ).all()
    # Each sender's days with FAQ decisions, then those days without a handoff of theirs.
    served = (
        sa.select(
            day_number(faq_decisions.c.created_at).label("day"),
            faq_decisions.c.sender_id.label("sender_id"),
        )
        .where(_in_range(faq_decisions.c.created_at, period))
        .distinct()
        .subquery()
    )
    handed_off_that_day = (
        sa.select(conversations.c.id)
        .where(conversations.c.sender_id == served.c.sender_id)
        .where(conversations.c.created_at >= served.c.day * DAY_S)
        .where(conversations.c.created_at < (served.c.day + 1) * DAY_S)
    )
    alone = conn.execute(
        sa.select(served.c.day, sa.func.count())
        .where(~sa.exists(handed_off_that_day))
        .group_by(served.c.day)
    ).all()
    handed = {_day_text(day): count for day, count in handed_off}
    bot = {_day_text(day): count for day, count in alone}
    rows = []
    for day in period.each_day():
        key = day.isoformat()
        total = bot.get(key, 0) + handed.get(key, 0)
        rows.append(
            {
                "day": key,
                "bot_alone": bot.get(key, 0),
                "handed_off": handed.get(key, 0),
                "containment": round(bot.get(key, 0) / total, 4) if total else None,
            }
        )
    return rows


def handoffs_by_reason(conn: Connection, period: DateRange) -> list[Row]:
    """Handoffs per reason, every reason listed."""
    counts: dict[Any, int] = dict(
        conn.execute(
            sa.select(conversations.c.reason, sa.func.count())
            .where(_in_range(conversations.c.created_at, period))
            .group_by(conversations.c.reason)
        ).all()
    )
    return [
        {"reason": reason.value, "label": REASON_LABELS[reason], "handoffs": counts.get(reason, 0)}
        for reason in HandoffReason
    ]


def _wait_s() -> Any:
    return conversations.c.assigned_at - conversations.c.created_at


def _claimed_in(period: DateRange) -> Any:
    return sa.and_(
        conversations.c.assigned_at.is_not(None), _in_range(conversations.c.created_at, period)
    )


def wait_distribution(conn: Connection, period: DateRange) -> list[Row]:
    """How long customers waited for a person, in bars (claimed conversations)."""
    wait = _wait_s()
    bucket = sa.case(
        *((wait < bound, index) for index, bound in enumerate(WAIT_BUCKETS_S)),
        else_=len(WAIT_BUCKETS_S),
    )
    counts: dict[Any, int] = dict(
        conn.execute(
            sa.select(bucket, sa.func.count()).where(_claimed_in(period)).group_by(bucket)
        ).all()
    )
    lows = (0, *WAIT_BUCKETS_S)
    rows = []
    for index, low in enumerate(lows):
        high = WAIT_BUCKETS_S[index] if index < len(WAIT_BUCKETS_S) else None
        rows.append(
            {
                "from_s": low,
                "to_s": high,
                "label": f"{_duration(low)} to {_duration(high)}" if high else f"{_duration(low)}+",
                "conversations": counts.get(index, 0),
            }
        )
    return rows


def _duration(seconds: int) -> str:
    return f"{seconds // 60} min" if seconds >= 60 else f"{seconds} s"


def median_wait_by_hour(conn: Connection, period: DateRange) -> list[Row]:
    """Per UTC hour of the day: handoffs claimed and their median wait (to the second)."""
    hour = hour_of_day(conversations.c.created_at)
    whole_seconds = _seconds(_wait_s())
    histogram = conn.execute(
        sa.select(hour, whole_seconds, sa.func.count())
        .where(_claimed_in(period))
        .group_by(hour, whole_seconds)
    ).all()
    waits: dict[int, dict[int, int]] = defaultdict(dict)
    for hour_value, seconds, count in histogram:
        waits[int(hour_value)][int(seconds)] = count
    return [
        {
            "hour": hour_value,
            "claimed": sum(waits[hour_value].values()),
            "median_wait_s": median_of_counts(waits[hour_value]),
        }
        for hour_value in range(24)
    ]


def median_of_counts(counts: Mapping[int, int]) -> float | None:
    """Return the median of values given as {value: how many times}; None when empty."""
    total = sum(counts.values())
    if not total:
        return None
    ordered = sorted(counts.items())

    def nth(position: int) -> int:
        seen = 0
        for value, count in ordered:
            seen += count
            if position < seen:
                return value
        raise IndexError(position)

    middle = total // 2
    return float(nth(middle)) if total % 2 else (nth(middle - 1) + nth(middle)) / 2


def ratings(conn: Connection, period: DateRange) -> list[Row]:
    """Per day the conversations were closed: how many customers rated, and the mean (1-5)."""
    day = day_number(conversations.c.closed_at)
    found = conn.execute(
        sa.select(day, sa.func.count(conversations.c.rating), sa.func.avg(conversations.c.rating))
        .where(conversations.c.rating.is_not(None))
        .where(_in_range(conversations.c.closed_at, period))
        .group_by(day)
    ).all()
    by_day = {_day_text(day_value): (count, mean) for day_value, count, mean in found}
    rows = []
    for each in period.each_day():
        count, mean = by_day.get(each.isoformat(), (0, None))
        rows.append(
            {
                "day": each.isoformat(),
                "ratings": count,
                "mean_rating": round(float(mean), 2) if mean is not None else None,
            }
        )
    return rows


def busiest_hours(conn: Connection, period: DateRange) -> list[Row]:
    """Handoffs per UTC weekday and hour: when people are needed."""
    day, hour = weekday(conversations.c.created_at), hour_of_day(conversations.c.created_at)
    counts = {
        (int(day_value), int(hour_value)): count
        for day_value, hour_value, count in conn.execute(
            sa.select(day, hour, sa.func.count())
            .where(_in_range(conversations.c.created_at, period))
            .group_by(day, hour)
        ).all()
    }
    return [
        {"weekday": name, "hour": hour_value, "handoffs": counts.get((index, hour_value), 0)}
        for index, name in enumerate(WEEKDAYS)
        for hour_value in range(24)
    ]


def faq_outcomes(conn: Connection, period: DateRange) -> list[Row]:
    """How often the bot answered, suggested FAQs, or did not know."""
    counts: dict[Any, int] = dict(
        conn.execute(
            sa.select(faq_decisions.c.kind, sa.func.count())
            .where(_in_range(faq_decisions.c.created_at, period))
            .group_by(faq_decisions.c.kind)
        ).all()
    )
    total = sum(counts.get(kind, 0) for kind in FAQ_DECISION_LABELS)
    return [
        {
            "outcome": kind,
            "label": label,
            "decisions": counts.get(kind, 0),
            "share": round(counts.get(kind, 0) / total, 4) if total else None,
        }
        for kind, label in FAQ_DECISION_LABELS.items()
    ]


def top_unanswered(conn: Connection, period: DateRange) -> list[Row]:
    """The questions asked most often that the bot could not answer (text as recorded, masked)."""
    same_text = sa.func.lower(sa.func.trim(unanswered_questions.c.text))
    found = conn.execute(
        sa.select(
            sa.func.min(unanswered_questions.c.text),
            sa.func.count(),
            sa.func.max(unanswered_questions.c.created_at),
        )
        .where(_in_range(unanswered_questions.c.created_at, period))
        .group_by(same_text)
        .order_by(sa.func.count().desc(), sa.func.max(unanswered_questions.c.created_at).desc())
        .limit(TOP_QUESTIONS)
    ).all()
    return [
        {
            "question": text,
            "times_asked": count,
            "last_asked": datetime.fromtimestamp(last, tz=UTC).isoformat(timespec="seconds"),
        }
        for text, count, last in found
    ]


@dataclass(frozen=True)
class Report:
    """One report: its route name, title, aggregate query and the schema of its rows."""

    name: str
    title: str
    compute: Callable[[Connection, DateRange], list[Row]]
    row_schema: schemas.Schema

    @property
    def columns(self) -> tuple[str, ...]:
        """Return the CSV columns: the row schema's fields, in order."""
        return tuple(self.row_schema["required"])


def _row_schema(**types: str | list[str]) -> schemas.Schema:
    return {
        "type": "object",
        "required": list(types),
        "properties": {name: {"type": kind} for name, kind in types.items()},
    }


_COUNT, _SHARE = "integer", ["number", "null"]
REPORTS = (
    Report(
        "containment",
        "Conversations the bot handled alone vs handed off, per day",
        containment,
        _row_schema(day="string", bot_alone=_COUNT, handed_off=_COUNT, containment=_SHARE),
    ),
    Report(
        "handoff-reasons",
        "Handoffs by reason",
        handoffs_by_reason,
        _row_schema(reason="string", label="string", handoffs=_COUNT),
    ),
    Report(
        "wait-times",
        "Wait for a person (claimed handoffs)",
        wait_distribution,
        _row_schema(label="string", from_s=_COUNT, to_s=["integer", "null"], conversations=_COUNT),
    ),
    Report(
        "wait-by-hour",
        "Median wait per hour of the day (UTC)",
        median_wait_by_hour,
        _row_schema(hour=_COUNT, claimed=_COUNT, median_wait_s=_SHARE),
    ),
    Report(
        "ratings",
        "Customer rating per day",
        ratings,
        _row_schema(day="string", ratings=_COUNT, mean_rating=_SHARE),
    ),
    Report(
        "busiest-hours",
        "Handoffs per weekday and hour (UTC)",
        busiest_hours,
        _row_schema(weekday="string", hour=_COUNT, handoffs=_COUNT),
    ),
    Report(
        "faq-outcomes",
        "FAQ answers, suggestions and don't-knows",
        faq_outcomes,
        _row_schema(outcome="string", label="string", decisions=_COUNT, share=_SHARE),
    ),
    Report(
        "unanswered",
        "Top unanswered questions",
        top_unanswered,
        _row_schema(question="string", times_asked=_COUNT, last_asked="string"),
    ),
)


def run_report(report: Report, period: DateRange) -> list[Row]:
    """Run one report's queries over `period`."""
    with services().db.read() as conn:
        return report.compute(conn, period)


def spreadsheet_safe(value: Any) -> Any:
    """Keep a cell a spreadsheet would run as a formula as text (a leading apostrophe)."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(columns: Iterable[str], rows: Iterable[Row]) -> str:
    """Render report rows as CSV with a header line."""
    columns = list(columns)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(
            ["" if row[name] is None else spreadsheet_safe(row[name]) for name in columns]
        )
    return out.getvalue()


def _response_schema(report: Report) -> schemas.Schema:
    return {
        "type": "object",
        "required": ["report", "title", "from", "to", "columns", "rows"],
        "properties": {
            "report": {"type": "string", "const": report.name},
            "title": {"type": "string"},
            "from": {"type": "string", "format": "date"},
            "to": {"type": "string", "format": "date"},
            "columns": {"type": "array", "items": {"type": "string"}},
            "rows": {"type": "array", "items": report.row_schema},
        },
    }


def _register(report: Report) -> None:
    def as_json(query: dict[str, Any]) -> Response:
        period = date_range(query)
        return jsonify(
            report=report.name,
            title=report.title,
            columns=list(report.columns),
            rows=run_report(report, period),
            **{"from": period.first.isoformat(), "to": period.last.isoformat()},
        )

    def as_csv(query: dict[str, Any]) -> Response:
        period = date_range(query)
        body = to_csv(report.columns, run_report(report, period))
        filename = f"{report.name}_{period.first}_{period.last}.csv"
        return Response(
            body,
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    for view, suffix, summary, media in (
        (as_json, "", report.title, None),
        (as_csv, ".csv", f"{report.title}, as CSV", "text/csv"),
    ):
        view.__name__ = f"report_{report.name.replace('-', '_')}{'_csv' if suffix else ''}"
        view.__doc__ = f"{summary}.\n\nSupervisors and admins; whole UTC days, 30 by default."
        documented = responds(
            _response_schema(report) if media is None else {"type": "string"}, media
        )(view)
        guarded = require_role("supervisor")(query_args(schemas.REPORT_QUERY)(documented))
        bp.add_url_rule(f"/{report.name}{suffix}", view.__name__, guarded, methods=["GET"])


for _report in REPORTS:
    _register(_report)


@bp.get("")
@require_role("supervisor")
def list_reports() -> Response:
    """List the reports, with their titles and columns."""
    return jsonify(
        reports=[
            {"name": report.name, "title": report.title, "columns": list(report.columns)}
            for report in REPORTS
        ]
    )
