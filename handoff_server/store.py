"""Change handed-off conversations: each public function is one write transaction.

Read it as the state machine: what each operation requires (`rules`) and the steps it
takes (`writes`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from handoff_server import accounts, outbox, rules, writes
from handoff_server.db import OPEN_STATES, Database, conversations
from handoff_server.domain_errors import Conflict, Invalid
from handoff_server.event_log import record_event
from handoff_server.queueing import queue_positions
from handoff_server.records import conversation_summary, find_message, iso_time, load_conversation
from handoff_server.rules import Agent
from lumen.vocabulary import HANDOFF_RESOLVED


def enqueue(db: Database, packet: Mapping[str, Any], team: str) -> tuple[dict[str, Any], bool]:
    """Queue a handed-off conversation with its transcript; return it and whether it is new."""
    now = time.time()
    with db.write() as conn:
        existing = writes.open_conversation_of(conn, packet["sender_id"])
        if existing is not None:
            return conversation_summary(conn, existing), False
        conversation_id = writes.insert_handoff(conn, packet, team, now)
        # The handoff answer tells the customer their place; only later moves are pushed.
        conn.execute(
            conversations.update()
            .where(conversations.c.id == conversation_id)
            .values(notified_position=queue_positions(conn)[conversation_id])
        )
        writes.refresh_queue(conn, now)
        return writes.publish(conn, conversation_id, now), True


def append_message(
    db: Database,
    conversation_id: int,
    text: str,
    *,
    agent: Agent | None = None,
    idempotency_key: str | None = None,
    faq_hits: list[dict[str, Any]] | None = None,
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
                rules.require_state(conversation, OPEN_STATES, "it takes no customer messages")
            role = "customer"
        else:
            rules.require_state(
                conversation, ("assigned",), "claim it before writing to the customer"
            )
            rules.require_owner(conversation, agent, "write in it")
            role = "agent"
            outbox.push(
                conn,
                conversation_id,
                conversation["sender_id"],
                outbox.AGENT_MESSAGE,
                {"agent_message": text, "agent_name": agent["display_name"]},
                now,
            )
        message = writes.append(
            conn,
            conversation_id,
            role,
            text,
            now,
            agent=agent,
            idempotency_key=idempotency_key,
            late=late,
            faq_hits=faq_hits,
        )
        if late:
            # The conversation lists show it has something new to read.
            writes.publish(conn, conversation_id, now)
        return message, True


def add_note(db: Database, conversation_id: int, agent: Agent, text: str) -> dict[str, Any]:
    """Add an internal note that the customer never sees."""
    now = time.time()
    with db.write() as conn:
        load_conversation(conn, conversation_id)
        note = writes.insert_note(conn, conversation_id, agent, text, now)
        record_event(conn, "note", note, now)
        return note


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
        rules.require_state(conversation, ("queued",), "only queued conversations can be claimed")
        writes.assign(conn, conversation, agent, agent, now)
        writes.append(conn, conversation_id, "system", f"{agent['display_name']} joined.", now)
        writes.refresh_queue(conn, now)
        return writes.publish(conn, conversation_id, now)


def transfer(
    db: Database,
    conversation_id: int,
    agent: Agent,
    *,
    to_agent: str | None = None,
    to_team: str | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """Hand the conversation to another agent, or back to the queue of another team.

    The step is in the conversation's history, `note` among its notes, and the receiving
    side's consoles hear a `transfer` event naming the agent or team it went to.
    """
    now = time.time()
    with db.write() as conn:
        conversation = load_conversation(conn, conversation_id)
        rules.require_state(conversation, OPEN_STATES, "only open conversations can be transferred")
        if conversation["state"] == "assigned":
            rules.require_owner(conversation, agent, "transfer it")
        if to_agent is not None:
            target = accounts.find_agent(conn, to_agent)
            if target is None:
                raise Invalid(f"field 'agent' must name an agent; there is no '{to_agent}'")
            if not target["active"]:
                raise Invalid(f"field 'agent' must name an active agent; '{to_agent}' is not")
            if target["id"] == conversation["assignee_id"]:
                raise Conflict(f"conversation {conversation_id} is already assigned to {to_agent}")
            handed_to = target["display_name"]
            writes.assign(
                conn, conversation, target, agent, now, detail=f"transferred to {handed_to}"
            )
        else:
            handed_to = f"the {to_team} team"
            writes.move(
                conn,
                conversation,
                "queued",
                agent["username"],
                now,
                detail=f"transferred to {handed_to}",
                team=to_team,
                assignee_id=None,
                notified_position=None,
            )
        writes.append(
            conn,
            conversation_id,
            "system",
            f"{agent['display_name']} transferred the conversation to {handed_to}.",
            now,
        )
        if note:
            record_event(
                conn, "note", writes.insert_note(conn, conversation_id, agent, note, now), now
            )
        writes.refresh_queue(conn, now)
        summary = writes.publish(conn, conversation_id, now)
        record_event(
            conn,
            "transfer",
            {
                "conversation": conversation_id,
                "by": {"username": agent["username"], "name": agent["display_name"]},
                "agent": to_agent,
                "team": to_team,
                "note": note,
                "at": iso_time(now),
            },
            now,
        )
        return summary


def resolve(
    db: Database, conversation_id: int, agent: Agent, note: str | None = None
) -> dict[str, Any]:
    """Close the conversation and give it back to the bot (or close an offline ticket)."""
    now = time.time()
    with db.write() as conn:
        conversation = load_conversation(conn, conversation_id)
        rules.require_state(
            conversation,
            ("assigned", "offline"),
            "only assigned conversations and offline tickets can be resolved",
        )
        if conversation["state"] == "assigned":
            rules.require_owner(conversation, agent, "resolve it")
            # An offline ticket's customer has left the chat; only a live one hears back.
            outbox.push(
                conn,
                conversation_id,
                conversation["sender_id"],
                HANDOFF_RESOLVED,
                {"agent_name": agent["display_name"]},
                now,
            )
        writes.move(conn, conversation, "resolved", agent["username"], now, closed_at=now)
        writes.append(conn, conversation_id, "system", f"Resolved by {agent['display_name']}.", now)
        if note:
            record_event(
                conn, "note", writes.insert_note(conn, conversation_id, agent, note, now), now
            )
        writes.refresh_queue(conn, now)
        return writes.publish(conn, conversation_id, now)


def reopen(db: Database, conversation_id: int, agent: Agent) -> dict[str, Any]:
    """Take a resolved conversation back, for example to answer what the customer wrote late.

    The customer hears that the agent joined, and their next messages reach the agent.
    """
    now = time.time()
    with db.write() as conn:
        conversation = load_conversation(conn, conversation_id)
        rules.require_state(
            conversation, ("resolved",), "only resolved conversations can be reopened"
        )
        newer = writes.open_conversation_of(conn, conversation["sender_id"])
        if newer is not None:
            raise Conflict(
                f"the customer of conversation {conversation_id} is in conversation {newer} now"
            )
        writes.assign(conn, conversation, agent, agent, now)
        conn.execute(
            conversations.update()
            .where(conversations.c.id == conversation_id)
            .values(closed_at=None, rating=None)
        )
        writes.append(conn, conversation_id, "system", f"{agent['display_name']} reopened it.", now)
        return writes.publish(conn, conversation_id, now)


def abandon(db: Database, conversation_id: int) -> dict[str, Any]:
    """Record that the customer left before an agent finished."""
    now = time.time()
    with db.write() as conn:
        conversation = load_conversation(conn, conversation_id)
        rules.require_state(conversation, OPEN_STATES, "only open conversations can be abandoned")
        writes.move(conn, conversation, "abandoned", "customer", now, closed_at=now)
        writes.append(conn, conversation_id, "system", "The customer left.", now)
        writes.refresh_queue(conn, now)
        return writes.publish(conn, conversation_id, now)


def leave_offline_message(
    db: Database, conversation_id: int, contact: str, text: str
) -> dict[str, Any]:
    """Turn a waiting conversation into a ticket to answer later by `contact`."""
    now = time.time()
    with db.write() as conn:
        conversation = load_conversation(conn, conversation_id)
        rules.require_state(
            conversation, ("queued",), "only queued conversations take offline messages"
        )
        writes.move(conn, conversation, "offline", "customer", now, offline_contact=contact)
        writes.append(conn, conversation_id, "customer", text, now)
        writes.refresh_queue(conn, now)
        return writes.publish(conn, conversation_id, now)


def message_left(db: Database, conversation_id: int) -> dict[str, Any]:
    """Return a conversation that holds a message left and not yet answered (409 otherwise)."""
    with db.read() as conn:
        conversation = load_conversation(conn, conversation_id)
    rules.require_state(conversation, ("offline",), "only messages left can be answered this way")
    return conversation


def answer_message_left(
    db: Database, conversation_id: int, agent: Agent, text: str, how: str
) -> dict[str, Any]:
    """Record the answer to a message left (`how` it reached the customer) and close it."""
    now = time.time()
    with db.write() as conn:
        conversation = load_conversation(conn, conversation_id)
        rules.require_state(conversation, ("offline",), "this message left is answered already")
        writes.append(conn, conversation_id, "agent", text, now, agent=agent)
        writes.move(conn, conversation, "resolved", agent["username"], now, closed_at=now)
        writes.append(
            conn, conversation_id, "system", f"Answered {how} by {agent['display_name']}.", now
        )
        return writes.publish(conn, conversation_id, now)


def note_typing(db: Database, conversation_id: int, agent: Agent) -> dict[str, Any]:
    """Tell the other consoles that `agent` is writing a reply in this conversation.

    Only who may send the reply (the assignee, or a supervisor) shows as typing.
    """
    now = time.time()
    with db.write() as conn:
        conversation = load_conversation(conn, conversation_id)
        rules.require_state(conversation, ("assigned",), "only assigned conversations take replies")
        rules.require_owner(conversation, agent, "write in it")
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
        rules.require_state(conversation, ("resolved",), "only resolved conversations can be rated")
        conn.execute(
            conversations.update()
            .where(conversations.c.id == conversation_id)
            .values(rating=rating)
        )
        return writes.publish(conn, conversation_id, now)
