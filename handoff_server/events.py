"""Stream queue changes and messages to agents as server-sent events, resumable by id."""

from __future__ import annotations

import bisect
import json
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, g, request
from werkzeug.exceptions import BadRequest

from handoff_server import accounts, records, schemas
from handoff_server.auth import require_role
from handoff_server.db import Database
from handoff_server.services import services
from handoff_server.validation import query_args

bp = Blueprint("events", __name__, url_prefix="/api")

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


class EventFeed:
    """Keep the newest events rendered in memory, so a change wakes many streams for one query."""

    def __init__(self, db: Database, size: int = FEED_SIZE, max_age_s: float = FEED_MAX_AGE_S):
        self.db = db
        self.size = size
        # Other processes' writes do not wake this one: look again at least this often.
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
        batch = records.events_after(self.db, after, limit=RESUME_PAGE)
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
                newest = records.latest_events(self.db, self.size)
                self._covers_after = newest[0]["id"] - 1 if len(newest) == self.size else 0
            else:
                newest = records.events_after(
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


def _stream(
    feed: EventFeed,
    agent: dict[str, Any],
    after: int,
    keepalive_s: float,
    expires_at: float,
) -> Iterator[str]:
    # The browser reconnects 3 s after a drop, sending the last id it saw as Last-Event-ID.
    yield "retry: 3000\n\n"
    db, last_seen_at = feed.db, agent["last_seen_at"]
    # Ending with the token makes the browser reconnect and learn that it needs a new one.
    while time.time() < expires_at:
        seen_generation = db.changed.generation
        batch, caught_up = feed.after(after)
        for event_id, rendered in batch:
            after = event_id
            yield rendered
        if not caught_up:
            continue
        # Holding the stream open keeps the agent on duty.
        last_seen_at = accounts.mark_on_duty(db, agent["id"], last_seen_at)
        # Other workers do not wake this one: their events arrive at a keepalive wake-up,
        # or the next one if this process's feed looked less than FEED_MAX_AGE_S before.
        db.changed.wait(seen_generation, keepalive_s)
        if db.changed.generation == seen_generation:
            yield ": keepalive\n\n"


@bp.get("/stream")
@require_role("agent", allow_query_token=True)
@query_args(schemas.STREAM_QUERY)
def stream(query: dict[str, Any]) -> Response:
    """Stream conversation, message and note events; resume after Last-Event-ID."""
    app = services()
    resume_from = request.headers.get("Last-Event-ID", query.get("last_event_id"))
    if resume_from is None:
        after = records.last_event_id(app.db)
    elif str(resume_from).isdigit():
        after = int(resume_from)
    else:
        raise BadRequest("Last-Event-ID must be an event id the stream sent")
    return Response(
        _stream(app.feed, g.agent, after, app.settings.sse_keepalive_s, g.token_expires_at),
        mimetype="text/event-stream",
        # Stop proxies (nginx) from buffering the stream.
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
