"""Keep the questions the bot could not answer, and list them for the FAQ gaps report."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from flask import Blueprint, Response, jsonify

from handoff_server import schemas
from handoff_server.auth import require_role, require_service
from handoff_server.db import Database, unanswered_questions
from handoff_server.records import iso_time
from handoff_server.services import services
from handoff_server.validation import json_body, query_args

bp = Blueprint("faq_gaps", __name__, url_prefix="/api")


def record(db: Database, question: Mapping[str, Any]) -> dict[str, Any]:
    """Store one unanswered question and return it as the API shows it."""
    row = {
        "sender_id": question["conversation_id"],
        "channel": question["channel"],
        "text": question["text"],
        "outcome": question["outcome"],
        "suggestions": list(question.get("suggestions") or []),
        "created_at": time.time(),
    }
    with db.write() as conn:
        question_id = conn.execute(
            unanswered_questions.insert().values(**row).returning(unanswered_questions.c.id)
        ).scalar_one()
    return question_json({**row, "id": question_id})


def recent(db: Database, limit: int, channel: str | None = None) -> list[dict[str, Any]]:
    """Return the latest unanswered questions, newest first."""
    query = unanswered_questions.select().order_by(unanswered_questions.c.id.desc()).limit(limit)
    if channel:
        query = query.where(unanswered_questions.c.channel == channel)
    with db.read() as conn:
        rows: Sequence[Any] = conn.execute(query).all()
    return [question_json(row._mapping) for row in rows]


def question_json(row: Mapping[str, Any]) -> dict[str, Any]:
    """Return a stored question as the API shows it."""
    return {
        "id": row["id"],
        "conversation_id": row["sender_id"],
        "channel": row["channel"],
        "text": row["text"],
        "outcome": row["outcome"],
        "suggestions": row["suggestions"],
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
    """List the latest unanswered questions, newest first: the FAQ gaps to fill."""
    questions = recent(services().db, query.get("limit", 100), query.get("channel"))
    return jsonify(questions=questions)
