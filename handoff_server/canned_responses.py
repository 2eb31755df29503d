"""Keep canned responses: replies agents insert by typing `/` and a shortcut in the console.

Supervisors create, edit and delete them; every agent reads them. Each change is one write
transaction and tells the consoles (a `canned_response` event) to read the list again.
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from handoff_server.db import Database, canned_responses
from handoff_server.domain_errors import Conflict, NotFound
from handoff_server.event_log import record_event
from handoff_server.records import iso_time
from handoff_server.rules import Agent


def canned_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "shortcut": row.shortcut,
        "text": row.text,
        "updated_by": row.updated_by,
        "updated_at": iso_time(row.updated_at),
    }


def list_canned(db: Database) -> list[dict[str, Any]]:
    """Return every canned response, by shortcut."""
    with db.read() as conn:
        rows = conn.execute(canned_responses.select().order_by(canned_responses.c.shortcut))
        return [canned_json(row) for row in rows]


def _refuse_taken(conn: Connection, shortcut: str, own_id: int | None = None) -> None:
    taken = conn.execute(
        sa.select(canned_responses.c.id).where(canned_responses.c.shortcut == shortcut)
    ).scalar()
    if taken is not None and taken != own_id:
        raise Conflict(f"the shortcut '/{shortcut}' is taken by canned response {taken}")


def _load(conn: Connection, canned_id: int) -> Any:
    row = conn.execute(canned_responses.select().where(canned_responses.c.id == canned_id)).first()
    if row is None:
        raise NotFound(f"canned response {canned_id} not found")
    return row


def create_canned(db: Database, shortcut: str, text: str, agent: Agent) -> dict[str, Any]:
    """Store a new canned response; refuse (409) a shortcut already taken."""
    now = time.time()
    with db.write() as conn:
        _refuse_taken(conn, shortcut)
        canned_id = conn.execute(
            canned_responses.insert()
            .values(shortcut=shortcut, text=text, updated_by=agent["username"], updated_at=now)
            .returning(canned_responses.c.id)
        ).scalar_one()
        record_event(conn, "canned_response", {"id": canned_id}, now)
        return canned_json(_load(conn, canned_id))


def update_canned(
    db: Database, canned_id: int, shortcut: str, text: str, agent: Agent
) -> dict[str, Any]:
    """Change a canned response's shortcut and text."""
    now = time.time()
    with db.write() as conn:
        _load(conn, canned_id)
        _refuse_taken(conn, shortcut, canned_id)
        conn.execute(
            canned_responses.update()
            .where(canned_responses.c.id == canned_id)
            .values(shortcut=shortcut, text=text, updated_by=agent["username"], updated_at=now)
        )
        record_event(conn, "canned_response", {"id": canned_id}, now)
        return canned_json(_load(conn, canned_id))


def delete_canned(db: Database, canned_id: int) -> dict[str, Any]:
    """Delete a canned response; return what it was."""
    now = time.time()
    with db.write() as conn:
        deleted = canned_json(_load(conn, canned_id))
        conn.execute(canned_responses.delete().where(canned_responses.c.id == canned_id))
        record_event(conn, "canned_response", {"id": canned_id}, now)
        return deleted
