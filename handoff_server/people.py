"""Let admins manage the people who use the console: roles, teams, deactivation, passwords."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify
from werkzeug.exceptions import BadRequest

from handoff_server import accounts, schemas
from handoff_server.auth import require_role
from handoff_server.openapi import may_refuse
from handoff_server.services import services
from handoff_server.validation import json_body

bp = Blueprint("people", __name__, url_prefix="/api")


@bp.get("/people")
@require_role("admin")
def list_people() -> Response:
    """List every account, deactivated ones too, with the roles and teams to choose from."""
    app = services()
    return jsonify(
        people=accounts.list_agents(app.db, inactive_too=True),
        roles=list(accounts.ROLES),
        teams=app.settings.teams,
    )


@bp.patch("/agents/<username>")
@may_refuse(409)
@require_role("admin")
@json_body(schemas.AGENT_CHANGES)
def update_agent(username: str, body: dict[str, Any]) -> Response:
    """Change an account's name, role or team, or deactivate it (its tokens stop at once).

    An admin cannot deactivate or demote themselves (409).
    """
    teams = services().settings.teams
    if body.get("team") is not None and body["team"] not in teams:
        raise BadRequest(f"field 'team' must be one of {', '.join(teams)}")
    agent = accounts.update_agent(services().db, username, body, g.agent)
    return jsonify(accounts.agent_json(agent))


@bp.post("/agents/<username>/password")
@require_role("admin")
@json_body(schemas.PASSWORD_RESET)
def reset_password(username: str, body: dict[str, Any]) -> Response:
    """Set a new password; the account's earlier tokens stop working."""
    agent = accounts.reset_password(services().db, username, body["password"])
    return jsonify(accounts.agent_json(agent))
