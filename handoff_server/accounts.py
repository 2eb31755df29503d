"""Keep agent accounts: passwords, roles, teams and who is on duty."""

from __future__ import annotations

import time
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from werkzeug.security import check_password_hash, generate_password_hash

from handoff_server.db import Database, agents
from handoff_server.domain_errors import Busy, Conflict, Invalid, NotFound
from handoff_server.event_log import record_event
from handoff_server.settings import DEFAULT_TEAM

ROLES = ("agent", "supervisor", "admin")
# Transitions name their actor by username or by one of these.
RESERVED_USERNAMES = ("bot", "customer", "system")
MIN_PASSWORD_LENGTH = 8
# An agent is on duty while their console has called the API or held a stream this recently.
ON_DUTY_WINDOW_S = 120
# Refresh last_seen_at at most this often, so each request does not write.
_SEEN_RESOLUTION_S = 30
# How long a request waits to record that its agent is on duty while another write holds the
# database: a moment, never the wait of a change (DB_LOCK_TIMEOUT_S).
_SEEN_WAIT_S = 0.5

_PUBLIC_COLUMNS = (
    agents.c.id,
    agents.c.username,
    agents.c.display_name,
    agents.c.role,
    agents.c.team,
    agents.c.last_seen_at,
    agents.c.active,
    agents.c.tokens_valid_after,
)
# Consoles hear of account changes on this stream event (an account deactivated, a password
# reset): the account's own stream ends, and its console finds its token refused.
EVENT_KIND = "account"


def has_role(role: str, required: str) -> bool:
    """Tell whether `role` is at least `required` (admin >= supervisor >= agent)."""
    return ROLES.index(role) >= ROLES.index(required)


def hash_password(password: str) -> str:
    """Hash a password for storage."""
    return generate_password_hash(password)


@cache
def _unknown_user_hash() -> str:
    return hash_password("no agent has this password")


def agent_json(agent: dict[str, Any], now: float | None = None) -> dict[str, Any]:
    """Describe an agent as the API shows it."""
    last_seen = agent["last_seen_at"]
    return {
        "username": agent["username"],
        "name": agent["display_name"],
        "role": agent["role"],
        "team": agent["team"],
        "active": agent["active"],
        "on_duty": agent["active"]
        and last_seen is not None
        and last_seen >= (now or time.time()) - ON_DUTY_WINDOW_S,
    }


def create_agent(
    db: Database,
    username: str,
    password: str,
    role: str,
    *,
    display_name: str | None = None,
    team: str | None = None,
) -> dict[str, Any]:
    """Create an agent account; refuse short passwords, unknown roles and taken usernames."""
    _check_password(password)
    if username.lower() in RESERVED_USERNAMES:
        raise Invalid(f"the username '{username}' is reserved")
    _check_role(role)
    with db.write() as conn:
        if find_agent(conn, username) is not None:
            raise Conflict(f"agent '{username}' already exists")
        conn.execute(
            agents.insert().values(
                username=username,
                display_name=display_name or username,
                password_hash=hash_password(password),
                role=role,
                team=team or DEFAULT_TEAM,
                created_at=time.time(),
            )
        )
        agent = find_agent(conn, username)
    assert agent is not None
    return agent


def _check_password(password: str) -> None:
    if len(password.strip()) < MIN_PASSWORD_LENGTH:
        raise Invalid(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise Invalid(f"the role must be one of {', '.join(ROLES)}")


def _existing(conn: Connection, username: str) -> dict[str, Any]:
    agent = find_agent(conn, username)
    if agent is None:
        raise NotFound(f"agent '{username}' not found")
    return agent


def update_agent(
    db: Database, username: str, changes: dict[str, Any], by: dict[str, Any]
) -> dict[str, Any]:
    """Change an account's name, role, team or active flag; an admin cannot lock themselves out.

    Deactivating ends the account's tokens at once: its requests answer 401, its event stream
    ends, and it cannot sign in until reactivated.
    """
    if "role" in changes:
        _check_role(changes["role"])
    if username == by["username"] and (
        changes.get("active") is False or changes.get("role", by["role"]) != by["role"]
    ):
        raise Conflict("admins cannot deactivate or demote themselves; ask another admin")
    values = {
        column: changes[field]
        for field, column in (
            ("name", "display_name"),
            ("role", "role"),
            ("team", "team"),
            ("active", "active"),
        )
        if changes.get(field) is not None
    }
    with db.write() as conn:
        agent = _existing(conn, username)
        if values:
            conn.execute(agents.update().where(agents.c.id == agent["id"]).values(**values))
            record_event(conn, EVENT_KIND, {"username": username}, time.time())
        updated = _existing(conn, username)
    return updated


def reset_password(
    db: Database, username: str, password: str, now: float | None = None
) -> dict[str, Any]:
    """Set a new password; tokens signed before now stop working (the account signs in again)."""
    _check_password(password)
    now = time.time() if now is None else now
    with db.write() as conn:
        agent = _existing(conn, username)
        conn.execute(
            agents.update()
            .where(agents.c.id == agent["id"])
            # Tokens carry whole seconds: one signed in this very second still works.
            .values(password_hash=hash_password(password), tokens_valid_after=float(int(now)))
        )
        record_event(conn, EVENT_KIND, {"username": username}, now)
        return _existing(conn, username)


def accepts_token(agent: dict[str, Any], signed_at: float) -> bool:
    """Tell whether the account takes a token signed at `signed_at` (active, not reset since)."""
    valid_after = agent["tokens_valid_after"]
    return bool(agent["active"]) and (valid_after is None or signed_at >= valid_after)


def _token_rules(conn: Connection) -> dict[int, tuple[bool, float | None]]:
    rows = conn.execute(sa.select(agents.c.id, agents.c.active, agents.c.tokens_valid_after))
    return {row.id: (row.active, row.tokens_valid_after) for row in rows}


def still_accepts_token(db: Database, agent_id: int, signed_at: float) -> bool:
    """Tell whether the account still takes its token; one query per committed change."""
    with db.read() as conn:
        rules = db.committed.get(conn, _token_rules)
    active, valid_after = rules.get(agent_id, (False, None))
    return accepts_token({"active": active, "tokens_valid_after": valid_after}, signed_at)


def find_agent(conn: Connection, username: str) -> dict[str, Any] | None:
    """Return the agent with this username, if any."""
    row = conn.execute(sa.select(*_PUBLIC_COLUMNS).where(agents.c.username == username)).first()
    return dict(row._mapping) if row else None


def get_agent(db: Database, agent_id: int) -> dict[str, Any] | None:
    """Return the agent with this id, if any."""
    with db.read() as conn:
        row = conn.execute(sa.select(*_PUBLIC_COLUMNS).where(agents.c.id == agent_id)).first()
    return dict(row._mapping) if row else None


def log_in(db: Database, username: str, password: str) -> dict[str, Any] | None:
    """Check the password and put the agent on duty; None if wrong (in the same time either way)."""
    with db.read() as conn:
        row = conn.execute(
            sa.select(agents.c.password_hash, *_PUBLIC_COLUMNS).where(agents.c.username == username)
        ).first()
    password_matches = check_password_hash(
        row.password_hash if row else _unknown_user_hash(), password
    )
    if row is None or not password_matches or not row.active:
        return None
    agent = {column.name: row._mapping[column.name] for column in _PUBLIC_COLUMNS}
    return {**agent, "last_seen_at": mark_on_duty(db, row.id, row.last_seen_at)}


def list_agents(db: Database, *, inactive_too: bool = False) -> list[dict[str, Any]]:
    """List the active agents (every account if `inactive_too`), with whether they are on duty."""
    query = sa.select(*_PUBLIC_COLUMNS).order_by(agents.c.username)
    if not inactive_too:
        query = query.where(agents.c.active.is_(True))
    with db.read() as conn:
        rows = conn.execute(query).all()
    now = time.time()
    return [agent_json(dict(row._mapping), now) for row in rows]


def mark_on_duty(db: Database, agent_id: int, last_seen_at: float | None) -> float | None:
    """Record that the agent is active now, unless recorded recently; return the recorded time."""
    now = time.time()
    # Reading the agent is cheap; a write transaction on every request and stream wake is not.
    if last_seen_at is not None and last_seen_at >= now - _SEEN_RESOLUTION_S:
        return last_seen_at
    try:
        with db.transaction(wait_s=_SEEN_WAIT_S) as conn:
            conn.execute(
                agents.update()
                .where(agents.c.id == agent_id)
                .where(
                    sa.or_(
                        agents.c.last_seen_at.is_(None),
                        agents.c.last_seen_at < now - _SEEN_RESOLUTION_S,
                    )
                )
                .values(last_seen_at=now)
            )
    except Busy:
        # The agent's next request or stream wake-up records it; this one is served meanwhile.
        return last_seen_at
    return now


def count_on_duty(db: Database) -> int:
    """Count the agents active in the last two minutes."""
    with db.read() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count())
                .select_from(agents)
                .where(agents.c.last_seen_at >= time.time() - ON_DUTY_WINDOW_S)
                .where(agents.c.active.is_(True))
            ).scalar_one()
        )
