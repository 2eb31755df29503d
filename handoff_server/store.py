"""Change handed-off conversations: each public function is one write transaction."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from handoff_server import accounts, outbox
from handoff_server.db import (
    OPEN_STATES,
    Database,
    conversations,
    messages,
    notes,
    transitions,
)
from handoff_server.domain_errors import Conflict, Forbidden, Invalid
from handoff_server.event_log import record_event
from handoff_server.queueing import QUEUE_ORDER, REASON_PRIORITY, queue_fields, queue_positions
from handoff_server.records import (
    conversation_json,
    conversation_summary,
    find_message,
    iso_time,
    load_conversation,
    note_json,
    queue_snapshot,
)

Agent = Mapping[str, Any]


def _require_state(conversation: Mapping[str, Any], states: Sequence[str], action: str) -> None:
    if conversation["state"] not in states:
        raise Conflict(f"conversation {conversation['id']} is {conversation['state']}; {action}")


def _require_owner(conversation: Mapping[str, Any], agent: Agent, action: str) -> None:
    if conversation["assignee_id"] != agent["id"] and not accounts.has_role(
        agent["role"], "supervisor"
    ):
        raise Forbidden(
            f"conversation {conversation['id']} is assigned to "
            f"{conversation['assignee_username']}; only they or a supervisor can {action}"
        )


def _open_conversation_of(conn: Connection, sender_id: str) -> int | None:
    """Return the id of the customer's queued or assigned conversation, if any (one at most)."""
    return conn.execute(
        sa.select(conversations.c.id)
        .where(conversations.c.sender_id == sender_id)
        .where(conversations.c.state.in_(OPEN_STATES))
    ).scalar()


def _publish(conn: Connection, conversation_id: int, now: float) -> dict[str, Any]:
    """Tell agents' streams the conversation's new state, and return it."""
    summary = conversation_summary(conn, conversation_id)
    record_event(conn, "conversation", summary, now)
    return summary


def _move(
    conn: Connection,
    conversation: Mapping[str, Any],
    to_state: str,
    actor: str,
    now: float,
    **changes: Any,
) -> None:
    conn.execute(
        conversations.update()
        .where(conversations.c.id == conversation["id"])
        .values(state=to_state, **changes)
    )
    if to_state != conversation["state"]:
        conn.execute(
            transitions.insert().values(
                conversation_id=conversation["id"],
                from_state=conversation["state"],
                to_state=to_state,
                actor=actor,
                created_at=now,
            )
        )


def _append(
    conn: Connection,
    conversation_id: int,
    role: str,
    text: str,
    now: float,
    *,
    agent: Agent | None = None,
    idempotency_key: str | None = None,
    late: bool = False,
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
            created_at=now,
        )
        .returning(messages.c.id)
    ).scalar_one()
    message = find_message(conn, conversation_id, message_id=message_id)
    assert message is not None
    record_event(conn, "message", message, now)
    return message


def _refresh_queue(conn: Connection, now: float) -> None:
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


def enqueue(db: Database, packet: Mapping[str, Any], team: str) -> tuple[dict[str, Any], bool]:
    """Queue a handed-off conversation with its transcript; return it and whether it is new."""
    now = time.time()
    with db.write() as conn:
        existing = _open_conversation_of(conn, packet["sender_id"])
        if existing is not None:
            return conversation_summary(conn, existing), False
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
        # The handoff answer tells the customer their place; only later moves are pushed.
        conn.execute(
            conversations.update()
            .where(conversations.c.id == conversation_id)
            .values(notified_position=queue_positions(conn)[conversation_id])
        )
        _refresh_queue(conn, now)
        return _publish(conn, conversation_id, now), True


def append_message(
    db: Database,
    conversation_id: int,
    text: str,
    *,
    agent: Agent | None = None,
    idempotency_key: str | None = None,
) -> tuple[dict[str, Any], bool]:
    """Store a customer message (no agent) or an agent's reply; a retried key is stored once.

    A customer message that arrives after the agent resolved the conversation was written
    while a person held it (the bot forwards only then): it joins the transcript, marked
    late, so the agent sees it and can reopen the conversation. It is never refused.
    """
    now = time.time()
    with db.write() as conn:
        conversation = load_conversation(conn, conversation_id)
        if idempotency_key is not None:
            existing = find_message(conn, conversation_id, idempotency_key=idempotency_key)
            if existing is not None:
                return existing, False
        late = False
        if agent is None:
            late = conversation["state"] == "resolved"
            if not late:
                _require_state(conversation, OPEN_STATES, "it takes no customer messages")
            role = "customer"
        else:
            _require_state(conversation, ("assigned",), "claim it before writing to the customer")
            _require_owner(conversation, agent, "write in it")
            role = "agent"
            outbox.push(
                conn,
                conversation_id,
                conversation["sender_id"],
                outbox.AGENT_MESSAGE,
                {"agent_message": text, "agent_name": agent["display_name"]},
                now,
            )
        message = _append(
            conn,
            conversation_id,
            role,
            text,
            now,
            agent=agent,
            idempotency_key=idempotency_key,
            late=late,
        )
        if late:
            # The conversation lists show it has something new to read.
            _publish(conn, conversation_id, now)
        return message, True


def add_note(db: Database, conversation_id: int, agent: Agent, text: str) -> dict[str, Any]:
    """Add an internal note that the customer never sees."""
    now = time.time()
    with db.write() as conn:
        load_conversation(conn, conversation_id)
        note = _insert_note(conn, conversation_id, agent, text, now)
        record_event(conn, "note", note, now)
        return note


def _insert_note(
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


def claim(db: Database, conversation_id: int, agent: Agent) -> dict[str, Any]:
    """Assign a waiting conversation to the agent and tell the customer who joined."""
    now = time.time()
    with db.write() as conn:
        conversation = load_conversation(conn, conversation_id)
        if conversation["state"] == "assigned":
            raise Conflict(
                f"conversation {conversation_id} is already assigned to "
                f"{conversation['assignee_username']}"
            )
        _require_state(conversation, ("queued",), "only queued conversations can be claimed")
        _assign(conn, conversation, agent, agent, now)
        _append(conn, conversation_id, "system", f"{agent['display_name']} joined.", now)
        _refresh_queue(conn, now)
        return _publish(conn, conversation_id, now)


def _assign(
    conn: Connection, conversation: Mapping[str, Any], assignee: Agent, actor: Agent, now: float
) -> None:
    _move(
        conn,
        conversation,
        "assigned",
        actor["username"],
        now,
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


def transfer(
    db: Database,
    conversation_id: int,
    agent: Agent,
    *,
    to_agent: str | None = None,
    to_team: str | None = None,
) -> dict[str, Any]:
    """Hand the conversation to another agent, or back to the queue of another team."""
    now = time.time()
    with db.write() as conn:
        conversation = load_conversation(conn, conversation_id)
        _require_state(conversation, OPEN_STATES, "only open conversations can be transferred")
        if conversation["state"] == "assigned":
            _require_owner(conversation, agent, "transfer it")
        if to_agent is not None:
            target = accounts.find_agent(conn, to_agent)
            if target is None:
                raise Invalid(f"field 'agent' must name an agent; there is no '{to_agent}'")
            if target["id"] == conversation["assignee_id"]:
                raise Conflict(f"conversation {conversation_id} is already assigned to {to_agent}")
            _assign(conn, conversation, target, agent, now)
            handed_to = target["display_name"]
        else:
            _move(
                conn,
                conversation,
                "queued",
                agent["username"],
                now,
                team=to_team,
                assignee_id=None,
                notified_position=None,
            )
            handed_to = f"the {to_team} team"
        _append(
            conn,
            conversation_id,
            "system",
            f"{agent['display_name']} transferred the conversation to {handed_to}.",
            now,
        )
        _refresh_queue(conn, now)
        return _publish(conn, conversation_id, now)


def resolve(
    db: Database, conversation_id: int, agent: Agent, note: str | None = None
) -> dict[str, Any]:
    """Close the conversation and give it back to the bot (or close an offline ticket)."""
    now = time.time()
    with db.write() as conn:
        conversation = load_conversation(conn, conversation_id)
        _require_state(
            conversation,
            ("assigned", "offline"),
            "only assigned conversations and offline tickets can be resolved",
        )
        if conversation["state"] == "assigned":
            _require_owner(conversation, agent, "resolve it")
            # An offline ticket's customer has left the chat; only a live one hears back.
            outbox.push(
                conn,
                conversation_id,
                conversation["sender_id"],
                outbox.HANDOFF_RESOLVED,
                {"agent_name": agent["display_name"]},
                now,
            )
        _move(conn, conversation, "resolved", agent["username"], now, closed_at=now)
        _append(conn, conversation_id, "system", f"Resolved by {agent['display_name']}.", now)
        if note:
            record_event(conn, "note", _insert_note(conn, conversation_id, agent, note, now), now)
        _refresh_queue(conn, now)
        return _publish(conn, conversation_id, now)


def reopen(db: Database, conversation_id: int, agent: Agent) -> dict[str, Any]:
    """Take a resolved conversation back, for example to answer what the customer wrote late.

    The customer hears that the agent joined, and their next messages reach the agent.
    """
    now = time.time()
    with db.write() as conn:
        conversation = load_conversation(conn, conversation_id)
        _require_state(conversation, ("resolved",), "only resolved conversations can be reopened")
        newer = _open_conversation_of(conn, conversation["sender_id"])
        if newer is not None:
            raise Conflict(
                f"the customer of conversation {conversation_id} is in conversation {newer} now"
            )
        _assign(conn, conversation, agent, agent, now)
        conn.execute(
            conversations.update()
            .where(conversations.c.id == conversation_id)
            .values(closed_at=None, rating=None)
        )
        _append(conn, conversation_id, "system", f"{agent['display_name']} reopened it.", now)
        return _publish(conn, conversation_id, now)


def abandon(db: Database, conversation_id: int) -> dict[str, Any]:
    """Record that the customer left before an agent finished."""
    now = time.time()
    with db.write() as conn:
        conversation = load_conversation(conn, conversation_id)
        _require_state(conversation, OPEN_STATES, "only open conversations can be abandoned")
        _move(conn, conversation, "abandoned", "customer", now, closed_at=now)
        _append(conn, conversation_id, "system", "The customer left.", now)
        _refresh_queue(conn, now)
        return _publish(conn, conversation_id, now)


def leave_offline_message(
    db: Database, conversation_id: int, contact: str, text: str
) -> dict[str, Any]:
    """Turn a waiting conversation into a ticket to answer later by `contact`."""
    now = time.time()
    with db.write() as conn:
        conversation = load_conversation(conn, conversation_id)
        _require_state(conversation, ("queued",), "only queued conversations take offline messages")
        _move(conn, conversation, "offline", "customer", now, offline_contact=contact)
        _append(conn, conversation_id, "customer", text, now)
        _refresh_queue(conn, now)
        return _publish(conn, conversation_id, now)


def note_typing(db: Database, conversation_id: int, agent: Agent) -> dict[str, Any]:
    """Tell the other consoles that `agent` is writing a reply in this conversation.

    Only who may send the reply (the assignee, or a supervisor) shows as typing.
    """
    now = time.time()
    with db.write() as conn:
        conversation = load_conversation(conn, conversation_id)
        _require_state(conversation, ("assigned",), "only assigned conversations take replies")
        _require_owner(conversation, agent, "write in it")
        payload = {
            "conversation": conversation_id,
            "agent": {"username": agent["username"], "name": agent["display_name"]},
            "at": iso_time(now),
        }
        record_event(conn, "typing", payload, now)
    return payload


def rate(db: Database, conversation_id: int, rating: int) -> dict[str, Any]:
    """Store the customer's rating of a resolved conversation."""
    now = time.time()
    with db.write() as conn:
        conversation = load_conversation(conn, conversation_id)
        _require_state(conversation, ("resolved",), "only resolved conversations can be rated")
        conn.execute(
            conversations.update()
            .where(conversations.c.id == conversation_id)
            .values(rating=rating)
        )
        return _publish(conn, conversation_id, now)
