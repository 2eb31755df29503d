"""Teach unanswered questions to FAQs, and serve the taught paraphrases to action servers."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from flask import Blueprint, Response, g, jsonify
from werkzeug.exceptions import ServiceUnavailable

from handoff_server import faq_gaps, schemas
from handoff_server.auth import require_role, require_service
from handoff_server.db import Database, taught_paraphrases
from handoff_server.domain_errors import Conflict, Unprocessable
from handoff_server.openapi import may_refuse
from handoff_server.records import iso_time
from handoff_server.services import services
from handoff_server.validation import json_body, query_args

# The knowledge base library needs PyYAML only: neither Rasa nor the embedding stack.
from knowledge_base.faqs import Faq, KnowledgeBaseError, normalize_text, text_owners

bp = Blueprint("teaching", __name__, url_prefix="/api")


def current_faqs() -> list[Faq]:
    """Return the FAQs of FAQ_DATA_DIR; a broken knowledge base answers 503 with its problems."""
    try:
        return services().knowledge_base.faqs()
    except KnowledgeBaseError as error:
        raise ServiceUnavailable(str(error)) from error


def teach(
    db: Database, question_id: int, faq: Faq, faqs: Sequence[Faq], taught_by: str
) -> tuple[dict[str, Any], bool]:
    """Make an open question's text a paraphrase of `faq`; return it and whether it is new.

    Refuse (409) a text that already belongs to another FAQ, in the data or taught.
    """
    now = time.time()
    with db.write() as conn:
        question = faq_gaps.open_question(conn, question_id, "only open questions can be taught")
        key = normalize_text(question["text"])
        if not key:
            raise Unprocessable(f"question {question_id} has no words to teach")
        owner = text_owners(faqs).get(key)
        if owner is not None:
            other = next(faq for faq in faqs if faq.id == owner)
            raise Conflict(
                f"'{question['text']}' is already a question or paraphrase of FAQ "
                f"'{other.id}' ({other.question})"
            )
        taught = [
            row
            for row in conn.execute(taught_paraphrases.select()).all()
            if normalize_text(row.text) == key
        ]
        if taught and taught[0].faq_id != faq.id:
            raise Conflict(f"'{question['text']}' was already taught to FAQ '{taught[0].faq_id}'")
        faq_gaps.close_question(conn, question_id, "taught", now)
        if taught:
            return paraphrase_json(dict(taught[0]._mapping)), False
        row = {
            "faq_id": faq.id,
            "text": question["text"].strip(),
            "question_id": question_id,
            "taught_by": taught_by,
            "created_at": now,
        }
        paraphrase_id = conn.execute(
            taught_paraphrases.insert().values(**row).returning(taught_paraphrases.c.id)
        ).scalar_one()
    return paraphrase_json({**row, "id": paraphrase_id}), True


def paraphrases_after(db: Database, after: int, limit: int) -> list[dict[str, Any]]:
    """Return the taught paraphrases with an id above `after`, oldest first."""
    query = (
        taught_paraphrases.select()
        .where(taught_paraphrases.c.id > after)
        .order_by(taught_paraphrases.c.id)
        .limit(limit)
    )
    with db.read() as conn:
        rows: Sequence[Any] = conn.execute(query).all()
    return [paraphrase_json(row._mapping) for row in rows]


def paraphrase_json(row: Mapping[str, Any]) -> dict[str, Any]:
    """Return a taught paraphrase as the API shows it."""
    return {
        "id": row["id"],
        "faq_id": row["faq_id"],
        "text": row["text"],
        "question_id": row["question_id"],
        "taught_by": row["taught_by"],
        "created_at": iso_time(row["created_at"]),
    }


@bp.get("/faqs")
@may_refuse(503)
@require_role("supervisor")
def list_faqs() -> Response:
    """List the knowledge base's FAQs (id, question, channels), to teach questions to."""
    faqs = sorted(current_faqs(), key=lambda faq: faq.question.casefold())
    return jsonify(
        faqs=[{"id": faq.id, "question": faq.question, "channels": faq.channels} for faq in faqs]
    )


@bp.post("/unanswered-questions/<int:question_id>/teach")
@may_refuse(409, 422, 503)
@require_role("supervisor")
@json_body(schemas.TEACH)
def teach_question(question_id: int, body: dict[str, Any]) -> tuple[Response, int]:
    """Teach a question to an FAQ: the bot answers it with that FAQ from then on."""
    faqs = current_faqs()
    faq = next((faq for faq in faqs if faq.id == body["faq_id"]), None)
    if faq is None:
        raise Unprocessable(f"no FAQ with id '{body['faq_id']}'")
    paraphrase, created = teach(services().db, question_id, faq, faqs, g.agent["username"])
    return jsonify(paraphrase), 201 if created else 200


@bp.get("/faq-paraphrases")
@require_service
@query_args(schemas.PARAPHRASE_QUERY)
def list_faq_paraphrases(query: dict[str, Any]) -> Response:
    """List taught paraphrases after the `after` cursor, oldest first, for action servers."""
    paraphrases = paraphrases_after(services().db, query.get("after", 0), query.get("limit", 500))
    return jsonify(paraphrases=paraphrases)
