"""The event log agents' streams read: record events, read them back, render them as SSE.

Every change an agent must see is an event row, written in the transaction that makes
the change (`record_event`); `EventFeed` keeps the newest rendered in memory for the
streams (events.py), which resume from any id they saw.
"""

from __future__ import annotations

import bisect
import json
import re
import threading
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from handoff_server.db import Database, event_sequence, events

# The only line breaks the SSE format knows; str.splitlines would also split on \u2028 etc.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# How many recent events each process keeps rendered for its streams.
FEED_SIZE = 1000
FEED_MAX_AGE_S = 1.0
RESUME_PAGE = 200


def format_sse(data: Any, event: str | None = None, id: int | str | None = None) -> str:
    """Render one server-sent event; data that is not a string is sent as JSON."""
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    lines = []
    for name, value in (("id", id), ("event", event)):
        if value is None:
            continue
        if _LINE_BREAK.search(str(value)):
            raise ValueError(f"an SSE {name} cannot contain a line break")
        lines.append(f"{name}: {value}")
    lines.extend(f"data: {line}" for line in _LINE_BREAK.split(text))
    return "\n".join(lines) + "\n\n"


def record_event(conn: Connection, kind: str, payload: dict[str, Any], now: float) -> None:
    """Add an event to the agents' stream, in the caller's write transaction."""
    event_id = conn.execute(
        event_sequence.update()
        .where(event_sequence.c.id == 1)
        .values(last_event_id=event_sequence.c.last_event_id + 1)
        .returning(event_sequence.c.last_event_id)
    ).scalar_one()
    conn.execute(events.insert().values(id=event_id, kind=kind, payload=payload, created_at=now))


def last_event_id(db: Database) -> int:
    """Return the id of the newest stream event (0 when there is none)."""
    with db.read() as conn:
        return int(conn.execute(sa.select(event_sequence.c.last_event_id)).scalar_one())


def events_after(db: Database, after: int, limit: int | None = 200) -> list[dict[str, Any]]:
    """Return stream events newer than `after`, oldest first (all of them if no limit)."""
    with db.read() as conn:
        rows = conn.execute(
            sa.select(events.c.id, events.c.kind, events.c.payload)
            .where(events.c.id > after)
            .order_by(events.c.id)
            .limit(limit)
        ).all()
    return [dict(row._mapping) for row in rows]


def latest_events(db: Database, count: int) -> list[dict[str, Any]]:
    """Return the newest `count` stream events, oldest first."""
    with db.read() as conn:
        rows = conn.execute(
            sa.select(events.c.id, events.c.kind, events.c.payload)
            .order_by(events.c.id.desc())
            .limit(count)
        ).all()
    return [dict(row._mapping) for row in reversed(rows)]


class EventFeed:
    """Keep the newest events rendered in memory, so a change wakes many streams for one query."""

    def __init__(self, db: Database, size: int = FEED_SIZE, max_age_s: float = FEED_MAX_AGE_S):
        self.db = db
        self.size = size
        # Other processes' writes wake this one only through the event bus, when there is
        # one (event_bus.py): look again at least this often.
        self.max_age_s = max_age_s
        self._ids: list[int] = []
        self._rendered: list[str] = []
        # Memory holds every event after this id; None until the first load.
        self._covers_after: int | None = None
        self._generation = -1
        self._loaded_at = 0.0
        self._lock = threading.Lock()

    def after(self, after: int) -> tuple[list[tuple[int, str]], bool]:
        """Return rendered events newer than `after`, oldest first, and whether that is all."""
        self._refresh()
        if self._covers_after is not None and after >= self._covers_after:
            start = bisect.bisect_right(self._ids, after)
            return list(zip(self._ids[start:], self._rendered[start:], strict=True)), True
        # A resume from before what memory holds reads the database, a page at a time.
        batch = events_after(self.db, after, limit=RESUME_PAGE)
        return [(event["id"], _render(event)) for event in batch], len(batch) < RESUME_PAGE

    def _is_fresh(self) -> bool:
        return (
            self._generation == self.db.changed.generation
            and time.monotonic() - self._loaded_at < self.max_age_s
        )

    def _refresh(self) -> None:
        if self._is_fresh():
            return
        with self._lock:
            # Another stream may have loaded the change while this one waited for the lock.
            if self._is_fresh():
                return
            # Read before the query: a write committed during it makes the next call look again.
            generation, loaded_at = self.db.changed.generation, time.monotonic()
            if self._covers_after is None:
                newest = latest_events(self.db, self.size)
                self._covers_after = newest[0]["id"] - 1 if len(newest) == self.size else 0
            else:
                newest = events_after(
                    self.db, self._ids[-1] if self._ids else self._covers_after, None
                )
            self._ids.extend(event["id"] for event in newest)
            self._rendered.extend(_render(event) for event in newest)
            if len(self._ids) > self.size:
                dropped = len(self._ids) - self.size
                self._covers_after = self._ids[dropped - 1]
                del self._ids[:dropped], self._rendered[:dropped]
            self._generation, self._loaded_at = generation, loaded_at


def _render(event: dict[str, Any]) -> str:
    return format_sse(event["payload"], event=event["kind"], id=event["id"])
