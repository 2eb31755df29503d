"""Keep the questions the bot could not answer, list them, and close them when handled."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, jsonify
from sqlalchemy.engine import Connection

from handoff_server import schemas
from handoff_server.auth import require_role, require_service
from handoff_server.db import Database, unanswered_questions
from handoff_server.domain_errors import Conflict, NotFound
from handoff_server.event_log import record_event
from handoff_server.openapi import may_refuse
from handoff_server.records import iso_time
from handoff_server.services import services
from handoff_server.validation import json_body, query_args

bp = Blueprint("faq_gaps", __name__, url_prefix="/api")

# Supervisors' consoles refresh their list on this stream event; it carries no customer text,
# since every agent's stream receives it.
EVENT_KIND = "unanswered_question"


def record(db: Database, question: Mapping[str, Any]) -> dict[str, Any]:
    """Store one unanswered question and return it as the API shows it."""
    row = {
        "sender_id": question["sender_id"],
        "channel": question["channel"],
        "text": question["text"],
        "outcome": question["outcome"],
        "suggestions": list(question.get("suggestions") or []),
        "embedding": question.get("embedding"),
        "status": "open",
        "created_at": time.time(),
    }
    with db.write() as conn:
        question_id = conn.execute(
            unanswered_questions.insert().values(**row).returning(unanswered_questions.c.id)
        ).scalar_one()
        record_event(conn, EVENT_KIND, {"id": question_id, "status": "open"}, row["created_at"])
    return question_json({**row, "id": question_id})


def recent(
    db: Database, limit: int, status: str = "open", channel: str | None = None
) -> list[dict[str, Any]]:
    """Return the latest unanswered questions in a status, newest first."""
    query = (
        unanswered_questions.select()
        .where(unanswered_questions.c.status == status)
        .order_by(unanswered_questions.c.id.desc())
        .limit(limit)
    )
    if channel:
        query = query.where(unanswered_questions.c.channel == channel)
    with db.read() as conn:
        rows: Sequence[Any] = conn.execute(query).all()
    return [question_json(row._mapping) for row in rows]


def open_question(conn: Connection, question_id: int, action: str) -> dict[str, Any]:
    """Return an open question; 404 if there is none, 409 if it was taught or dismissed."""
    row = conn.execute(
        unanswered_questions.select().where(unanswered_questions.c.id == question_id)
    ).first()
    if row is None:
        raise NotFound(f"unanswered question {question_id} not found")
    if row.status != "open":
        raise Conflict(f"question {question_id} is already {row.status}; {action}")
    return dict(row._mapping)


def close_question(conn: Connection, question_id: int, status: str, now: float) -> None:
    """Mark a question taught or dismissed, and tell supervisors' consoles."""
    conn.execute(
        sa.update(unanswered_questions)
        .where(unanswered_questions.c.id == question_id)
        .values(status=status)
    )
    record_event(conn, EVENT_KIND, {"id": question_id, "status": status}, now)


def dismiss(db: Database, question_id: int) -> dict[str, Any]:
    """Mark a question as no gap in the knowledge base, and return it."""
    now = time.time()
    with db.write() as conn:
        question = open_question(conn, question_id, "only open questions can be dismissed")
        close_question(conn, question_id, "dismissed", now)
    return question_json({**question, "status": "dismissed"})


def question_json(row: Mapping[str, Any]) -> dict[str, Any]:
    """Return a stored question as the API shows it."""
    return {
        "id": row["id"],
        "sender_id": row["sender_id"],
        "channel": row["channel"],
        "text": row["text"],
        "outcome": row["outcome"],
        "suggestions": row["suggestions"],
        "status": row["status"],
        "created_at": iso_time(row["created_at"]),
    }


@bp.post("/unanswered-questions")
@require_service
@json_body(schemas.UNANSWERED_QUESTION)
def post_unanswered_question(body: dict[str, Any]) -> tuple[Response, int]:
    """Record a question no FAQ answered (outcome none) or whose suggestions were rejected."""
    return jsonify(record(services().db, body)), 201


@bp.get("/unanswered-questions")
@require_role("supervisor")
@query_args(schemas.UNANSWERED_QUERY)
def list_unanswered_questions(query: dict[str, Any]) -> Response:
    """List the latest unanswered questions (open ones by default), newest first."""
    questions = recent(
        services().db,
        query.get("limit", 100),
        status=query.get("status", "open"),
        channel=query.get("channel"),
    )
    return jsonify(questions=questions)


@bp.post("/unanswered-questions/<int:question_id>/dismiss")
@may_refuse(409)
@require_role("supervisor")
def dismiss_question(question_id: int) -> Response:
    """Close a question that is no gap in the knowledge base (small talk, off topic)."""
    return jsonify(dismiss(services().db, question_id))
