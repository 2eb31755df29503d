"""Authenticate the action server (service token) and agents (signed bearer tokens)."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Forbidden, Unauthorized

from handoff_server import accounts
from handoff_server.accounts import has_role
from handoff_server.services import services

_TOKEN_SALT = "handoff-agent-token"


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=_TOKEN_SALT)


def issue_token(secret_key: str, agent_id: int) -> str:
    """Sign a bearer token for an agent."""
    return _serializer(secret_key).dumps({"agent": agent_id})


def read_token(secret_key: str, token: str, max_age_s: int) -> tuple[int, float] | None:
    """Return the agent id and expiry time of a token, or None if it is forged or expired."""
    try:
        payload, signed_at = _serializer(secret_key).loads(
            token, max_age=max_age_s, return_timestamp=True
        )
    except BadSignature:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("agent"), int):
        return None
    return payload["agent"], signed_at.timestamp() + max_age_s


def _unauthorized(message: str) -> Unauthorized:
    return Unauthorized(message, www_authenticate=WWWAuthenticate("bearer"))


def _bearer_token(allow_query_token: bool) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.args.get("token") if allow_query_token else None


def require_service(view: Callable[..., Any]) -> Callable[..., Any]:
    """Let only the action server (HANDOFF_SERVICE_TOKEN) call the view."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        token = _bearer_token(allow_query_token=False)
        expected = services().settings.service_token
        if not token or not hmac.compare_digest(token.encode(), expected.encode()):
            raise _unauthorized("a valid service token is required")
        return view(*args, **kwargs)

    wrapper.auth = "service"  # type: ignore[attr-defined]
    return wrapper


def require_role(
    role: str, *, allow_query_token: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Let only agents with at least `role` call the view; put the agent in `g.agent`."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            token = _bearer_token(allow_query_token)
            if not token:
                raise _unauthorized("a bearer token is required (POST /api/auth/token)")
            app = services()
            claims = read_token(app.settings.secret_key, token, app.settings.agent_token_ttl_s)
            agent = accounts.get_agent(app.db, claims[0]) if claims else None
            if claims is None or agent is None:
                raise _unauthorized("the token is invalid or expired")
            signed_at = claims[1] - app.settings.agent_token_ttl_s
            if not accounts.accepts_token(agent, signed_at):
                raise _unauthorized("the account was deactivated or its password reset")
            if not has_role(agent["role"], role):
                raise Forbidden(
                    f"this needs the {role} role; {agent['username']} is {agent['role']}"
                )
            seen_at = accounts.mark_on_duty(app.db, agent["id"], agent["last_seen_at"])
            g.agent = {**agent, "last_seen_at": seen_at}
            g.token_expires_at = claims[1]
            g.token_signed_at = signed_at
            return view(*args, **kwargs)

        wrapper.auth = role  # type: ignore[attr-defined]
        return wrapper

    return decorate
