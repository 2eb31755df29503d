"""Group the open unanswered questions by meaning, teach a group at once, or draft a new FAQ.

The handoff server has no ML stack: the action server sends each question's embedding (the
FAQ engine's own vector of the masked text, in int8 steps) when it records the miss. Here the
same words make one entry, and an entry joins the first group whose first question it
resembles (cosine at least SIMILAR_COSINE), biggest groups first; a question recorded without
an embedding stands alone. A few hundred questions take a few hundred thousand
multiplications, done once per committed change (the database's CommittedCache).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import mul
from typing import Any

import sqlalchemy as sa
import yaml
from flask import Blueprint, Response, g, jsonify
from sqlalchemy.engine import Connection

from handoff_server import schemas
from handoff_server.auth import require_role
from handoff_server.db import Database, unanswered_questions
from handoff_server.domain_errors import Busy, HandoffError, NotFound, Unprocessable
from handoff_server.openapi import may_refuse
from handoff_server.services import services
from handoff_server.teaching import current_faqs, teach
from handoff_server.validation import json_body, query_args
from knowledge_base.faqs import normalize_text

bp = Blueprint("question_groups", __name__, url_prefix="/api/unanswered-questions")

# all-MiniLM-L6-v2 (the engine's model): rewordings of one question score 0.65-0.8, other
# questions under 0.4 (tests/faq/test_engine.py checks the engine against it).
SIMILAR_COSINE = 0.6
DEFAULT_LIMIT = 300


@dataclass
class _Entry:
    """The open questions with the same words."""

    text: str
    ids: list[int]
    vector: list[int] | None
    norm: float


@dataclass
class _Group:
    leader: _Entry
    entries: list[_Entry] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(len(entry.ids) for entry in self.entries)


def _cosine(a: _Entry, b: _Entry) -> float:
    if a.vector is None or b.vector is None or len(a.vector) != len(b.vector):
        return -1.0
    return sum(map(mul, a.vector, b.vector)) / (a.norm * b.norm or 1.0)


def group_rows(rows: Sequence[Any]) -> list[dict[str, Any]]:
    """Group question rows (id, text, embedding), newest first; return groups, biggest first."""
    entries: dict[str, _Entry] = {}
    for row in rows:
        key = normalize_text(row.text) or row.text
        entry = entries.get(key)
        if entry is None:
            vector = row.embedding if isinstance(row.embedding, list) else None
            norm = math.sqrt(sum(value * value for value in vector)) if vector else 0.0
            entries[key] = _Entry(row.text, [row.id], vector, norm)
        else:
            entry.ids.append(row.id)
            if entry.vector is None and isinstance(row.embedding, list):
                entry.vector = row.embedding
                entry.norm = math.sqrt(sum(value * value for value in row.embedding))
    groups: list[_Group] = []
    for entry in sorted(entries.values(), key=lambda entry: -len(entry.ids)):
        home = next(
            (group for group in groups if _cosine(group.leader, entry) >= SIMILAR_COSINE), None
        )
        if home is None:
            home = _Group(entry)
            groups.append(home)
        home.entries.append(entry)
    groups.sort(key=lambda group: -group.size)
    return [
        {
            "label": group.leader.text,
            "size": group.size,
            "questions": [
                {"text": entry.text, "ids": entry.ids, "count": len(entry.ids)}
                for entry in group.entries
            ],
        }
        for group in groups
    ]


def _open_rows(conn: Connection, limit: int) -> list[Any]:
    return list(
        conn.execute(
            sa.select(
                unanswered_questions.c.id,
                unanswered_questions.c.text,
                unanswered_questions.c.embedding,
            )
            .where(unanswered_questions.c.status == "open")
            .order_by(unanswered_questions.c.id.desc())
            .limit(limit)
        ).all()
    )


def _grouped(conn: Connection, limit: int) -> list[dict[str, Any]]:
    return group_rows(_open_rows(conn, limit))


def open_groups(db: Database, limit: int = DEFAULT_LIMIT) -> list[dict[str, Any]]:
    """Return the latest `limit` open questions in groups, computed once per committed change."""
    with db.read() as conn:
        return db.committed.get(conn, _grouped, limit)


def open_texts(db: Database, question_ids: Sequence[int]) -> list[str]:
    """Return the texts of open questions, in the order given; 404 naming an unknown one."""
    with db.read() as conn:
        rows = dict(
            conn.execute(
                sa.select(unanswered_questions.c.id, unanswered_questions.c.text)
                .where(unanswered_questions.c.id.in_(list(question_ids)))
                .where(unanswered_questions.c.status == "open")
            ).all()
        )
    missing = [question_id for question_id in question_ids if question_id not in rows]
    if missing:
        raise NotFound(f"no open unanswered question {missing[0]}")
    return [rows[question_id] for question_id in question_ids]


def faq_draft(texts: Sequence[str]) -> str:
    """Return a new FAQ for data/faq/*.yml: the most asked wording as its question, the rest
    as paraphrases, an answer to write."""
    counts: dict[str, tuple[int, str]] = {}
    for text in texts:
        key = normalize_text(text) or text
        count, shown = counts.get(key, (0, text.strip()))
        counts[key] = (count + 1, shown)
    wordings = [shown for _, shown in sorted(counts.values(), key=lambda item: -item[0])]
    slug = "_".join(re.findall(r"[a-z0-9]+", normalize_text(wordings[0])))[:48] or "new_faq"
    faq = {
        "id": slug,
        "question": wordings[0],
        "paraphrases": wordings[1:],
        "answer": "Write the answer here.",
    }
    return yaml.safe_dump({"faqs": [faq]}, sort_keys=False, allow_unicode=True)


@bp.get("/groups")
@require_role("supervisor")
@query_args(schemas.GROUPS_QUERY)
def list_groups(query: dict[str, Any]) -> Response:
    """List the latest open unanswered questions grouped by meaning, biggest group first."""
    return jsonify(groups=open_groups(services().db, query.get("limit", DEFAULT_LIMIT)))


@bp.post("/teach-group")
@may_refuse(422, 503)
@require_role("supervisor")
@json_body(schemas.TEACH_GROUP)
def teach_group(body: dict[str, Any]) -> Response:
    """Teach every question of a group to one FAQ; report each question taught or refused."""
    faqs = current_faqs()
    faq = next((faq for faq in faqs if faq.id == body["faq_id"]), None)
    if faq is None:
        raise Unprocessable(f"no FAQ with id '{body['faq_id']}'")
    taught, refused = [], []
    for question_id in dict.fromkeys(body["question_ids"]):
        try:
            paraphrase, _ = teach(services().db, question_id, faq, faqs, g.agent["username"])
        except Busy:
            raise
        except HandoffError as error:
            refused.append({"id": question_id, "message": error.message})
        else:
            taught.append(paraphrase)
    return jsonify(taught=taught, refused=refused)


@bp.post("/faq-draft")
@may_refuse(404)
@require_role("supervisor")
@json_body(schemas.FAQ_DRAFT)
def draft_faq(body: dict[str, Any]) -> Response:
    """Draft a new FAQ (YAML for data/faq) from a group of open questions, to complete and add."""
    texts = open_texts(services().db, list(dict.fromkeys(body["question_ids"])))
    return jsonify(yaml=faq_draft(texts))
