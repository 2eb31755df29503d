"""Find a customer's earlier conversations, for the customer card in the console."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, jsonify

from handoff_server.auth import require_role
from handoff_server.db import Database, conversations
from handoff_server.records import iso_time, load_conversation
from handoff_server.services import services

bp = Blueprint("customers", __name__, url_prefix="/api")

EARLIER_LIMIT = 20


def earlier_conversations(db: Database, conversation_id: int) -> list[dict[str, Any]]:
    """Return the customer's other conversations, newest first: same session, or same contact.

    The same session is the same Rasa sender (a widget's stored session, a kiosk's until it
    wipes itself); the same contact is an email or phone number the customer gave, in the
    handoff or in a message left.
    """
    with db.read() as conn:
        this = load_conversation(conn, conversation_id)
        contacts = {
            value
            for value in (this["customer_email"], this["customer_phone"], this["offline_contact"])
            if value
        }
        same_session = conversations.c.sender_id == this["sender_id"]
        matches = [same_session]
        if contacts:
            matches += [
                conversations.c.customer_email.in_(contacts),
                conversations.c.customer_phone.in_(contacts),
                conversations.c.offline_contact.in_(contacts),
            ]
        rows = conn.execute(
            sa.select(
                conversations.c.id,
                conversations.c.state,
                conversations.c.reason,
                conversations.c.channel,
                conversations.c.summary,
                conversations.c.rating,
                conversations.c.created_at,
                same_session.label("same_session"),
            )
            .where(conversations.c.id != conversation_id)
            .where(sa.or_(*matches))
            .order_by(conversations.c.created_at.desc(), conversations.c.id.desc())
            .limit(EARLIER_LIMIT)
        ).all()
    return [
        {
            "id": row.id,
            "state": row.state,
            "reason": row.reason,
            "channel": row.channel,
            "summary": row.summary,
            "rating": row.rating,
            "created_at": iso_time(row.created_at),
            "match": "session" if row.same_session else "contact",
        }
        for row in rows
    ]


@bp.get("/conversations/<int:conversation_id>/earlier")
@require_role("agent")
def list_earlier_conversations(conversation_id: int) -> Response:
    """List the customer's other conversations (same session or same contact), newest first."""
    return jsonify(conversations=earlier_conversations(services().db, conversation_id))
