"""Describe the API's request bodies and query strings as JSON Schema (checked and documented)."""

from __future__ import annotations

from typing import Any

from handoff_server.accounts import MIN_PASSWORD_LENGTH, ROLES
from handoff_server.db import QUESTION_STATUSES
from handoff_server.queueing import REASON_PRIORITY
from handoff_server.records import LISTED_STATES
from lumen.vocabulary import (
    CHANNELS,
    FAQ_DECISION_LABELS,
    MAX_SENDER_ID_CHARS,
    MAX_TEXT_CHARS,
    MISS_OUTCOME_LABELS,
)

USERNAME_PATTERN = r"^[A-Za-z0-9_.@-]+$"
NOT_BLANK = r"\S"
# Every id column is sa.Integer: 32 bits in PostgreSQL. A path id past it names no row.
MAX_ROW_ID = 2**31 - 1

Schema = dict[str, Any]


def _string(max_length: int = 255, *, nullable: bool = False, min_length: int = 0) -> Schema:
    schema: Schema = {"type": ["string", "null"] if nullable else "string", "maxLength": max_length}
    if min_length:
        schema["minLength"] = min_length
    if min_length == 1:
        schema["pattern"] = NOT_BLANK  # what validation.py checks as "must not be empty"
    return schema


TEXT = _string(MAX_TEXT_CHARS, min_length=1)
NUMBER: Schema = {"type": ["number", "null"]}
ROW_ID: Schema = {"type": "integer", "minimum": 1, "maximum": MAX_ROW_ID}
# A cursor: "the rows after this id", 0 for all of them.
ROW_ID_CURSOR: Schema = {"type": "integer", "minimum": 0, "maximum": MAX_ROW_ID}
IDEMPOTENCY_KEY = _string(255, nullable=True, min_length=1)

# The FAQs the engine found for a customer's text, best first: shown to agents, and the
# console suggests their answers.
FAQ_HITS: Schema = {
    "type": ["array", "null"],
    "maxItems": 10,
    "items": {
        "type": "object",
        "required": ["faq_id"],
        "properties": {"faq_id": _string(), "score": NUMBER},
    },
}

TURN: Schema = {
    "type": "object",
    "required": ["role", "text"],
    "properties": {
        "role": {"type": "string", "enum": ["customer", "bot"]},
        "text": _string(MAX_TEXT_CHARS),
        "timestamp": {"type": ["number", "null"], "minimum": 0, "maximum": 1e11},
        # Per-turn scores are shown to agents, not acted on: rounding noise must not fail a
        # handoff, so they are checked for type only.
        "intent": _string(nullable=True),
        "confidence": NUMBER,
        "sentiment": NUMBER,
        "faq_hits": FAQ_HITS,
    },
}

HANDOFF: Schema = {
    "type": "object",
    "required": ["sender_id", "channel", "reason"],
    "properties": {
        "sender_id": _string(MAX_SENDER_ID_CHARS, min_length=1),
        "channel": {"type": "string", "enum": list(CHANNELS)},
        "page_url": _string(2048, nullable=True),
        "kiosk_id": _string(nullable=True),
        "kiosk_location": _string(nullable=True),
        "locale": _string(35, nullable=True),
        "customer": {
            "type": ["object", "null"],
            "properties": {
                "name": _string(nullable=True),
                "email": _string(nullable=True),
                "phone": _string(64, nullable=True),
            },
        },
        "reason": {"type": "string", "enum": [reason.value for reason in REASON_PRIORITY]},
        "sentiment": {**NUMBER, "minimum": -1, "maximum": 1},
        "summary": _string(MAX_TEXT_CHARS, nullable=True),
        "tags": {"type": ["array", "null"], "items": _string(64, min_length=1)},
        "transcript": {"type": ["array", "null"], "items": TURN},
    },
}

MESSAGE: Schema = {
    "type": "object",
    "required": ["text"],
    "properties": {"text": TEXT, "idempotency_key": IDEMPOTENCY_KEY},
}

CUSTOMER_MESSAGE: Schema = {
    "type": "object",
    "required": ["text"],
    "properties": {"text": TEXT, "idempotency_key": IDEMPOTENCY_KEY, "faq_hits": FAQ_HITS},
}

NOTE: Schema = {"type": "object", "required": ["text"], "properties": {"text": TEXT}}

TRANSFER: Schema = {
    "type": "object",
    "description": (
        "Exactly one of agent (a username) or team; an optional internal note for the colleague."
    ),
    "properties": {
        "agent": _string(64, nullable=True),
        "team": _string(64, nullable=True),
        "note": _string(MAX_TEXT_CHARS, nullable=True, min_length=1),
    },
}

# What agents type after `/` in the reply box: short, lower case, no spaces.
CANNED_SHORTCUT_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
CANNED_RESPONSE: Schema = {
    "type": "object",
    "description": (
        "A reply agents insert by typing / and its shortcut; {customer_name} and {agent_name}"
        " are filled in by the console."
    ),
    "required": ["shortcut", "text"],
    "properties": {
        "shortcut": {**_string(32, min_length=1), "pattern": CANNED_SHORTCUT_PATTERN},
        "text": TEXT,
    },
}

RESOLVE: Schema = {
    "type": "object",
    "properties": {"note": _string(MAX_TEXT_CHARS, nullable=True, min_length=1)},
}

OFFLINE_MESSAGE: Schema = {
    "type": "object",
    "required": ["contact", "text"],
    "properties": {"contact": _string(min_length=1), "text": TEXT},
}

ANSWER_MESSAGE_LEFT: Schema = {
    "type": "object",
    "required": ["text"],
    "description": "The answer: emailed to an address the customer left, or, for a phone "
    "number, what the agent told them on the call.",
    "properties": {"text": TEXT},
}

UNANSWERED_QUESTION: Schema = {
    "type": "object",
    "required": ["sender_id", "channel", "text", "outcome"],
    "properties": {
        "sender_id": _string(MAX_SENDER_ID_CHARS, min_length=1),
        "channel": {"type": "string", "enum": list(CHANNELS)},
        "text": TEXT,
        "outcome": {"type": "string", "enum": list(MISS_OUTCOME_LABELS)},
        "suggestions": {"type": ["array", "null"], "items": _string(min_length=1), "maxItems": 10},
        # The FAQ engine's embedding of the text, normalized, in int8 steps (x127).
        "embedding": {
            "type": ["array", "null"],
            "maxItems": 1024,
            "items": {"type": "integer", "minimum": -127, "maximum": 127},
        },
    },
}

UNANSWERED_QUERY: Schema = {
    "type": "object",
    "properties": {
        "status": {"type": "string", "enum": list(QUESTION_STATUSES)},
        "channel": {"type": "string", "enum": list(CHANNELS)},
        "limit": {"type": "integer", "minimum": 1, "maximum": 500},
    },
}

TEACH: Schema = {
    "type": "object",
    "required": ["faq_id"],
    "properties": {"faq_id": _string(min_length=1)},
}

PARAPHRASE_QUERY: Schema = {
    "type": "object",
    "properties": {
        "after": ROW_ID_CURSOR,
        "limit": {"type": "integer", "minimum": 1, "maximum": 1000},
    },
}

RATING: Schema = {
    "type": "object",
    "required": ["rating"],
    "properties": {"rating": {"type": "integer", "minimum": 1, "maximum": 5}},
}

TOKEN_REQUEST: Schema = {
    "type": "object",
    "required": ["username", "password"],
    "properties": {"username": _string(64, min_length=1), "password": _string(1024, min_length=1)},
}

NEW_AGENT: Schema = {
    "type": "object",
    "required": ["username", "password", "role"],
    "properties": {
        "username": {**_string(64, min_length=1), "pattern": USERNAME_PATTERN},
        "password": _string(1024, min_length=MIN_PASSWORD_LENGTH),
        "role": {"type": "string", "enum": list(ROLES)},
        "name": _string(120, nullable=True, min_length=1),
        "team": _string(64, nullable=True, min_length=1),
    },
}

CONVERSATION_QUERY: Schema = {
    "type": "object",
    "properties": {
        "state": {"type": "string", "enum": list(LISTED_STATES)},
        "team": _string(64),
        "limit": {"type": "integer", "minimum": 1, "maximum": 500},
    },
}

STREAM_QUERY: Schema = {
    "type": "object",
    "properties": {
        "token": _string(1024),
        "last_event_id": ROW_ID_CURSOR,
    },
}

# A day as reports take it: YYYY-MM-DD, a UTC day.
DAY: Schema = {"type": "string", "maxLength": 10, "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}

REPORT_QUERY: Schema = {
    "type": "object",
    "description": "Whole UTC days, both included; the last 30 days by default.",
    "properties": {"from": DAY, "to": DAY},
}

FAQ_DECISION: Schema = {
    "type": "object",
    "required": ["sender_id", "channel", "kind"],
    "properties": {
        "sender_id": _string(MAX_SENDER_ID_CHARS, min_length=1),
        "channel": {"type": "string", "enum": list(CHANNELS)},
        "kind": {"type": "string", "enum": list(FAQ_DECISION_LABELS)},
        "faq_id": _string(nullable=True, min_length=1),
    },
}

AGENT_CHANGES: Schema = {
    "type": "object",
    "description": "The fields to change; team is one of the configured teams.",
    "properties": {
        "name": _string(120, nullable=True, min_length=1),
        "role": {"type": "string", "enum": list(ROLES)},
        "team": _string(64, nullable=True, min_length=1),
        "active": {"type": "boolean"},
    },
}

PASSWORD_RESET: Schema = {
    "type": "object",
    "required": ["password"],
    "properties": {"password": _string(1024, min_length=MIN_PASSWORD_LENGTH)},
}

QUESTION_IDS: Schema = {
    "type": "array",
    "minItems": 1,
    "maxItems": 500,
    "items": ROW_ID,
}

TEACH_GROUP: Schema = {
    "type": "object",
    "required": ["question_ids", "faq_id"],
    "properties": {"question_ids": QUESTION_IDS, "faq_id": _string(min_length=1)},
}

FAQ_DRAFT: Schema = {
    "type": "object",
    "required": ["question_ids"],
    "properties": {"question_ids": QUESTION_IDS},
}

GROUPS_QUERY: Schema = {
    "type": "object",
    "properties": {"limit": {"type": "integer", "minimum": 1, "maximum": 500}},
}
