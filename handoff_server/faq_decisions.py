"""Record what the bot's FAQ engine decided for each question (no text): reports count them."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, jsonify

from handoff_server import schemas
from handoff_server.auth import require_service
from handoff_server.db import Database, faq_decisions
from handoff_server.services import services
from handoff_server.validation import json_body

bp = Blueprint("faq_decisions", __name__, url_prefix="/api")


def record(db: Database, decision: Mapping[str, Any], now: float | None = None) -> int:
    """Store one FAQ decision and return its id.

    Written without an event: no console shows decisions as they happen, so no stream wakes.
    """
    with db.transaction() as conn:
        return int(
            conn.execute(
                faq_decisions.insert()
                .values(
                    sender_id=decision["sender_id"],
                    channel=decision["channel"],
                    kind=decision["kind"],
                    faq_id=decision.get("faq_id"),
                    created_at=time.time() if now is None else now,
                )
                .returning(faq_decisions.c.id)
            ).scalar_one()
        )


@bp.post("/faq-decisions")
@require_service
@json_body(schemas.FAQ_DECISION)
def post_faq_decision(body: dict[str, Any]) -> tuple[Response, int]:
    """Record that the bot answered a question, suggested FAQs, or did not know (no text)."""
    return jsonify(id=record(services().db, body)), 201
