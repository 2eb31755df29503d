"""Read conversations and render them as the API shows them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from handoff_server.db import (
    Database,
    agents,
    conversations,
    messages,
    notes,
    transitions,
)
from handoff_server.domain_errors import NotFound
from handoff_server.queueing import QUEUE_ORDER, median_wait_s, queue_fields, queue_positions

LISTED_STATES = ("queued", "assigned", "resolved", "abandoned", "offline")

# A row's mapping or a dict built like one.
Record = Mapping[Any, Any]

_assignee = agents.alias("assignee")
_author = agents.alias("author")
_CONVERSATION = sa.select(
    conversations,
    _assignee.c.username.label("assignee_username"),
    _assignee.c.display_name.label("assignee_name"),
).select_from(conversations.outerjoin(_assignee, conversations.c.assignee_id == _assignee.c.id))


_MESSAGE = sa.select(
    messages,
    _author.c.username.label("agent_username"),
    _author.c.display_name.label("agent_name"),
).select_from(messages.outerjoin(_author, messages.c.agent_id == _author.c.id))
_NOTE = sa.select(notes, _author.c.username, _author.c.display_name).join(
    _author, notes.c.agent_id == _author.c.id
)


class QueueSnapshot(NamedTuple):
    """Queue positions and the median wait, computed once per transaction."""

    positions: dict[int, int]
    median_wait: float


def queue_snapshot(conn: Connection) -> QueueSnapshot:
    """Compute the queue positions and median wait once, for many conversations."""
    return QueueSnapshot(queue_positions(conn), median_wait_s(conn))


def iso_time(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _person(username: str | None, name: str | None) -> dict[str, str] | None:
    return {"username": username, "name": name or username} if username else None


def conversation_json(row: Record, queue: QueueSnapshot) -> dict[str, Any]:
    """Describe a conversation as the list and the event stream show it."""
    return {
        "id": row["id"],
        "sender_id": row["sender_id"],
        "state": row["state"],
        "reason": row["reason"],
        "channel": row["channel"],
        "customer_name": row["customer_name"],
        "team": row["team"],
        "tags": row["tags"],
        "summary": row["summary"],
        **queue_fields(row["id"], queue.positions, queue.median_wait),
        "assignee": _person(row["assignee_username"], row["assignee_name"]),
        "rating": row["rating"],
        "created_at": iso_time(row["created_at"]),
    }


def message_json(row: Record) -> dict[str, Any]:
    """Describe one turn of the transcript."""
    return {
        "id": row["id"],
        "conversation": row["conversation_id"],
        "seq": row["seq"],
        "role": row["role"],
        "text": row["text"],
        "agent": _person(row["agent_username"], row["agent_name"]),
        "idempotency_key": row["idempotency_key"],
        "intent": row["intent"],
        "confidence": row["confidence"],
        "sentiment": row["sentiment"],
        "faq_hits": row["faq_hits"],
        "late": row["late"],
        "created_at": iso_time(row["created_at"]),
    }


def note_json(row: Record) -> dict[str, Any]:
    """Describe an internal note."""
    return {
        "id": row["id"],
        "conversation": row["conversation_id"],
        "agent": _person(row["username"], row["display_name"]),
        "text": row["text"],
        "created_at": iso_time(row["created_at"]),
    }


def load_conversation(conn: Connection, conversation_id: int) -> dict[str, Any]:
    """Return the conversation's row with its assignee, or raise 404."""
    row = conn.execute(_CONVERSATION.where(conversations.c.id == conversation_id)).first()
    if row is None:
        raise NotFound(f"conversation {conversation_id} not found")
    return dict(row._mapping)


def conversation_summary(conn: Connection, conversation_id: int) -> dict[str, Any]:
    """Describe one conversation as the list shows it."""
    return conversation_json(load_conversation(conn, conversation_id), queue_snapshot(conn))


def find_message(
    conn: Connection,
    conversation_id: int,
    *,
    message_id: int | None = None,
    idempotency_key: str | None = None,
) -> dict[str, Any] | None:
    """Return one message of the conversation, by id or by idempotency key."""
    query = _MESSAGE.where(messages.c.conversation_id == conversation_id)
    if message_id is not None:
        query = query.where(messages.c.id == message_id)
    if idempotency_key is not None:
        query = query.where(messages.c.idempotency_key == idempotency_key)
    row = conn.execute(query).first()
    return message_json(row._mapping) if row else None


def list_conversations(
    db: Database, states: Sequence[str], *, team: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """List conversations in `states`: the queue in serving order, others newest first."""
    with db.read() as conn:
        # Every agent's console reads the same list until the next change: build it once.
        return db.committed.get(conn, _listing, tuple(states), team, limit)


def _listing(
    conn: Connection, states: tuple[str, ...], team: str | None, limit: int
) -> list[dict[str, Any]]:
    queue = queue_snapshot(conn)
    listed: list[dict[str, Any]] = []
    for state in states:
        query = _CONVERSATION.where(conversations.c.state == state)
        if team is not None:
            query = query.where(conversations.c.team == team)
        order = QUEUE_ORDER if state == "queued" else (conversations.c.created_at.desc(),)
        rows = conn.execute(query.order_by(*order).limit(limit - len(listed))).all()
        listed.extend(conversation_json(row._mapping, queue) for row in rows)
        if len(listed) >= limit:
            break
    return listed


def conversation_detail(db: Database, conversation_id: int) -> dict[str, Any]:
    """Return the context packet, the whole transcript, the notes and the state history."""
    with db.read() as conn:
        row = load_conversation(conn, conversation_id)
        transcript = conn.execute(
            _MESSAGE.where(messages.c.conversation_id == conversation_id).order_by(messages.c.seq)
        ).all()
        note_rows = conn.execute(
            _NOTE.where(notes.c.conversation_id == conversation_id).order_by(notes.c.id)
        ).all()
        history = conn.execute(
            sa.select(transitions)
            .where(transitions.c.conversation_id == conversation_id)
            .order_by(transitions.c.id)
        ).all()
        return {
            **conversation_json(row, db.committed.get(conn, queue_snapshot)),
            "page_url": row["page_url"],
            "kiosk_id": row["kiosk_id"],
            "kiosk_location": row["kiosk_location"],
            "locale": row["locale"],
            "customer": {
                "name": row["customer_name"],
                "email": row["customer_email"],
                "phone": row["customer_phone"],
            },
            "sentiment": row["sentiment"],
            "contact": row["offline_contact"],
            "transcript": [message_json(message._mapping) for message in transcript],
            "notes": [note_json(note._mapping) for note in note_rows],
            "history": [
                {
                    "from": step.from_state,
                    "to": step.to_state,
                    "actor": step.actor,
                    "detail": step.detail,
                    "at": iso_time(step.created_at),
                }
                for step in history
            ],
        }
