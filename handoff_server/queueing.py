"""Order the waiting queue and estimate how long a customer will wait."""

from __future__ import annotations

import statistics
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from handoff_server.db import conversations
from lumen.vocabulary import HandoffReason

# Lower goes first; within a priority the longest waiting goes first.
REASON_PRIORITY = {
    HandoffReason.SENSITIVE_TOPIC: 0,
    HandoffReason.BOT_FAILURE: 0,
    HandoffReason.FRUSTRATION: 1,
    HandoffReason.CUSTOMER_REQUEST: 2,
    HandoffReason.REPEATED_MISSES: 3,
}
DEFAULT_WAIT_S = 120
RECENT_WAITS = 50
# Below this many claimed conversations the median says more about luck than about the queue.
MIN_WAITS = 3

QUEUE_ORDER = (conversations.c.priority, conversations.c.created_at, conversations.c.id)


def queue_positions(conn: Connection) -> dict[int, int]:
    """Map each queued conversation's id to its 1-based position in its team's queue."""
    rows = conn.execute(
        sa.select(conversations.c.id, conversations.c.team)
        .where(conversations.c.state == "queued")
        .order_by(*QUEUE_ORDER)
    ).all()
    positions: dict[int, int] = {}
    seen_per_team: dict[str, int] = {}
    for conversation_id, team in rows:
        seen_per_team[team] = seen_per_team.get(team, 0) + 1
        positions[conversation_id] = seen_per_team[team]
    return positions


def median_wait_s(conn: Connection) -> float:
    """Return the median wait of the most recently claimed conversations, or a default."""
    waits = (
        conn.execute(
            sa.select(conversations.c.assigned_at - conversations.c.created_at)
            .where(conversations.c.assigned_at.is_not(None))
            .order_by(conversations.c.assigned_at.desc())
            .limit(RECENT_WAITS)
        )
        .scalars()
        .all()
    )
    return statistics.median(waits) if len(waits) >= MIN_WAITS else DEFAULT_WAIT_S


def expected_wait_s(position: int | None, median_wait: float) -> int | None:
    """Estimate the wait at `position`: one typical wait per conversation ahead and own."""
    return None if position is None else round(median_wait * position)


def queue_fields(
    conversation_id: int, positions: dict[int, int], median_wait: float
) -> dict[str, Any]:
    """Return the position and expected wait to show for one conversation."""
    position = positions.get(conversation_id)
    return {"position": position, "expected_wait_s": expected_wait_s(position, median_wait)}
