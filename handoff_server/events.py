"""Stream queue changes and messages to agents as server-sent events, resumable by id."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, g, request

from handoff_server import accounts, event_log, schemas
from handoff_server.auth import require_role
from handoff_server.event_log import EventFeed
from handoff_server.services import services
from handoff_server.validation import query_args, read_integer

bp = Blueprint("events", __name__, url_prefix="/api")


def _stream(
    feed: EventFeed,
    agent: dict[str, Any],
    after: int,
    keepalive_s: float,
    expires_at: float,
    signed_at: float,
) -> Iterator[str]:
    # The browser reconnects 3 s after a drop, sending the last id it saw as Last-Event-ID.
    yield "retry: 3000\n\n"
    db, last_seen_at = feed.db, agent["last_seen_at"]
    # Ending with the token makes the browser reconnect and learn that it needs a new one.
    while time.time() < expires_at:
        seen_generation = db.changed.generation
        batch, caught_up = feed.after(after)
        if batch and not accounts.still_accepts_token(db, agent["id"], signed_at):
            # Deactivated or its password reset: the browser reconnects, is refused (401) and
            # its console signs out.
            return
        for event_id, rendered in batch:
            after = event_id
            yield rendered
        if not caught_up:
            continue
        # Holding the stream open keeps the agent on duty.
        last_seen_at = accounts.mark_on_duty(db, agent["id"], last_seen_at)
        # Other workers' commits wake this one through the event bus (EVENT_BUS_URL); without
        # it, or while it is down, they arrive at a keepalive wake-up, or the next one if
        # this process's feed looked less than FEED_MAX_AGE_S before.
        db.changed.wait(seen_generation, keepalive_s)
        if db.changed.generation == seen_generation:
            yield ": keepalive\n\n"


@bp.get("/stream")
@require_role("agent", allow_query_token=True)
@query_args(schemas.STREAM_QUERY)
def stream(query: dict[str, Any]) -> Response:
    """Stream conversation, message and note events; resume after Last-Event-ID."""
    app = services()
    header = request.headers.get("Last-Event-ID")
    if header is not None:
        after = read_integer(header, schemas.ROW_ID_CURSOR, "Last-Event-ID")
    elif "last_event_id" in query:
        after = query["last_event_id"]
    else:
        after = event_log.last_event_id(app.db)
    return Response(
        _stream(
            app.feed,
            g.agent,
            after,
            app.settings.sse_keepalive_s,
            g.token_expires_at,
            g.token_signed_at,
        ),
        mimetype="text/event-stream",
        # Stop proxies (nginx) from buffering the stream.
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
