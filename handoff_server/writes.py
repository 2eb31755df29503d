"""The steps store operations are made of, inside their transaction.

Each step writes rows and records what agents' consoles hear of it (`event_log`) and what
the customer hears (`outbox`); `store` composes them, one transaction per operation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from handoff_server import outbox
from handoff_server.db import OPEN_STATES, conversations, messages, notes, transitions
from handoff_server.event_log import record_event
from handoff_server.queueing import QUEUE_ORDER, REASON_PRIORITY, queue_fields
from handoff_server.records import (
    conversation_json,
    conversation_summary,
    find_message,
    load_conversation,
    note_json,
    queue_snapshot,
)
from handoff_server.rules import Agent


def insert_handoff(conn: Connection, packet: Mapping[str, Any], team: str, now: float) -> int:
    """Insert a queued conversation with the transcript it was handed off with; return its id."""
    customer = packet.get("customer") or {}
    transcript = packet.get("transcript") or []
    conversation_id = conn.execute(
        conversations.insert()
        .values(
            sender_id=packet["sender_id"],
            channel=packet["channel"],
            page_url=packet.get("page_url"),
            kiosk_id=packet.get("kiosk_id"),
            kiosk_location=packet.get("kiosk_location"),
            locale=packet.get("locale"),
            customer_name=customer.get("name"),
            customer_email=customer.get("email"),
            customer_phone=customer.get("phone"),
            reason=packet["reason"],
            priority=REASON_PRIORITY[packet["reason"]],
            sentiment=packet.get("sentiment"),
            summary=packet.get("summary"),
            tags=packet.get("tags") or [],
            team=team,
            state="queued",
            last_seq=len(transcript),
            created_at=now,
        )
        .returning(conversations.c.id)
    ).scalar_one()
    conn.execute(
        transitions.insert().values(
            conversation_id=conversation_id,
            from_state="bot",
            to_state="queued",
            actor="bot",
            created_at=now,
        )
    )
    if transcript:
        conn.execute(
            messages.insert(),
            [
                {
                    "conversation_id": conversation_id,
                    "seq": seq,
                    "role": turn["role"],
                    "text": turn["text"],
                    "intent": turn.get("intent"),
                    "confidence": turn.get("confidence"),
                    "sentiment": turn.get("sentiment"),
                    "faq_hits": turn.get("faq_hits"),
                    "created_at": turn.get("timestamp") or now,
                }
                for seq, turn in enumerate(transcript, start=1)
            ],
        )
    return conversation_id


def open_conversation_of(conn: Connection, sender_id: str) -> int | None:
    """Return the id of the customer's queued or assigned conversation, if any (one at most)."""
    return conn.execute(
        sa.select(conversations.c.id)
        .where(conversations.c.sender_id == sender_id)
        .where(conversations.c.state.in_(OPEN_STATES))
    ).scalar()


def publish(conn: Connection, conversation_id: int, now: float) -> dict[str, Any]:
    """Tell agents' streams the conversation's new state, and return it."""
    summary = conversation_summary(conn, conversation_id)
    record_event(conn, "conversation", summary, now)
    return summary


def move(
    conn: Connection,
    conversation: Mapping[str, Any],
    to_state: str,
    actor: str,
    now: float,
    *,
    detail: str | None = None,
    **changes: Any,
) -> None:
    """Change the conversation's state and record the step; a step with a detail (a transfer)
    is recorded even when the state stays the same."""
    conn.execute(
        conversations.update()
        .where(conversations.c.id == conversation["id"])
        .values(state=to_state, **changes)
    )
    if to_state != conversation["state"] or detail is not None:
        conn.execute(
            transitions.insert().values(
                conversation_id=conversation["id"],
                from_state=conversation["state"],
                to_state=to_state,
                actor=actor,
                created_at=now,
                detail=detail,
            )
        )


def append(
    conn: Connection,
    conversation_id: int,
    role: str,
    text: str,
    now: float,
    *,
    agent: Agent | None = None,
    idempotency_key: str | None = None,
    late: bool = False,
    faq_hits: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    seq = conn.execute(
        conversations.update()
        .where(conversations.c.id == conversation_id)
        .values(last_seq=conversations.c.last_seq + 1)
        .returning(conversations.c.last_seq)
    ).scalar_one()
    message_id = conn.execute(
        messages.insert()
        .values(
            conversation_id=conversation_id,
            seq=seq,
            role=role,
            text=text,
            agent_id=agent["id"] if agent else None,
            idempotency_key=idempotency_key,
            late=late,
            faq_hits=faq_hits,
            created_at=now,
        )
        .returning(messages.c.id)
    ).scalar_one()
    message = find_message(conn, conversation_id, message_id=message_id)
    assert message is not None
    record_event(conn, "message", message, now)
    return message


def refresh_queue(conn: Connection, now: float) -> None:
    """Tell every waiting customer whose place in the queue changed, and the agents."""
    queue = queue_snapshot(conn)
    waiting = conn.execute(
        sa.select(conversations.c.id, conversations.c.sender_id, conversations.c.notified_position)
        .where(conversations.c.state == "queued")
        .order_by(*QUEUE_ORDER)
    ).all()
    for conversation_id, sender_id, notified_position in waiting:
        fields = queue_fields(conversation_id, queue.positions, queue.median_wait)
        if fields["position"] == notified_position:
            continue
        outbox.push(
            conn,
            conversation_id,
            sender_id,
            outbox.QUEUE_UPDATE,
            {"queue_position": fields["position"], "expected_wait_s": fields["expected_wait_s"]},
            now,
        )
        conn.execute(
            conversations.update()
            .where(conversations.c.id == conversation_id)
            .values(notified_position=fields["position"])
        )
        summary = conversation_json(load_conversation(conn, conversation_id), queue)
        record_event(conn, "conversation", summary, now)


def insert_note(
    conn: Connection, conversation_id: int, agent: Agent, text: str, now: float
) -> dict[str, Any]:
    values = {"conversation_id": conversation_id, "text": text, "created_at": now}
    note_id = conn.execute(
        notes.insert().values(agent_id=agent["id"], **values).returning(notes.c.id)
    ).scalar_one()
    return note_json(
        {
            **values,
            "id": note_id,
            "username": agent["username"],
            "display_name": agent["display_name"],
        }
    )


def assign(
    conn: Connection,
    conversation: Mapping[str, Any],
    assignee: Agent,
    actor: Agent,
    now: float,
    *,
    detail: str | None = None,
) -> None:
    move(
        conn,
        conversation,
        "assigned",
        actor["username"],
        now,
        detail=detail,
        assignee_id=assignee["id"],
        assigned_at=sa.func.coalesce(conversations.c.assigned_at, now),
        notified_position=None,
    )
    outbox.push(
        conn,
        conversation["id"],
        conversation["sender_id"],
        outbox.AGENT_JOINED,
        {"agent_name": assignee["display_name"], "handoff_id": conversation["id"]},
        now,
    )
