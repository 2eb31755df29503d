"""Describe the API as OpenAPI 3.1, built from the registered routes themselves."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask

from handoff_server.schemas import ROW_ID

# Paths, methods, summaries, auth, bodies and query strings all come from the routes and the
# schemas the views validate with, so this document lists exactly what the server serves.

_PARAMETER = re.compile(r"<(?:(?P<converter>[a-z]+):)?(?P<name>\w+)>")
_ERROR = {"$ref": "#/components/responses/Error"}
_DATABASE_BUSY = {"$ref": "#/components/responses/DatabaseBusy"}
_ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
View = TypeVar("View", bound=Callable[..., Any])
ACCESS_RULES = (
    "Who may do what. The action server calls the service routes with HANDOFF_SERVICE_TOKEN. "
    "Agents sign in for a bearer token; roles rise agent < supervisor < admin. Every agent may "
    "read every conversation (queue, transcript, notes, history) and add internal notes to any "
    "of them, a colleague's included. Only the assignee of an assigned conversation, or a "
    "supervisor, may reply to its customer, show as typing, transfer or resolve it; any agent "
    "may claim or transfer a queued conversation and resolve an offline ticket. Failed "
    "sign-ins are limited per client address and per account (429 with Retry-After)."
)


def may_refuse(*statuses: int) -> Callable[[View], View]:
    """Document the refusals a view may answer beyond validation and auth (409, 422, ...)."""

    def mark(view: View) -> View:
        view.refusals = (*getattr(view, "refusals", ()), *statuses)  # type: ignore[attr-defined]
        return view

    return mark


def responds(schema: dict[str, Any], media_type: str | None = None) -> Callable[[View], View]:
    """Document what a view answers with (200), as JSON Schema; JSON unless `media_type`."""

    def mark(view: View) -> View:
        view.response_schema = schema  # type: ignore[attr-defined]
        view.response_media_type = media_type or "application/json"  # type: ignore[attr-defined]
        return view

    return mark


def _operation(rule_path: str, method: str, view: Any) -> dict[str, Any]:
    summary, _, description = (view.__doc__ or "").strip().partition("\n")
    operation: dict[str, Any] = {
        "operationId": view.__name__,
        "summary": summary,
        "responses": {"200": {"description": "OK"}},
    }
    if description.strip():
        operation["description"] = description.strip()
    response_schema = getattr(view, "response_schema", None)
    if response_schema:
        operation["responses"]["200"]["content"] = {
            view.response_media_type: {"schema": response_schema}
        }
    if method == "post":
        operation["responses"]["201"] = {"description": "Created"}
    if method in ("post", "patch"):
        # Every change is one write transaction, which may find the database locked.
        operation["responses"]["503"] = _DATABASE_BUSY
    parameters = [
        {
            "name": match["name"],
            "in": "path",
            "required": True,
            "schema": ROW_ID if match["converter"] == "int" else {"type": "string"},
        }
        for match in _PARAMETER.finditer(rule_path)
    ]
    if parameters:
        operation["responses"]["404"] = _ERROR
    query_schema = getattr(view, "query_schema", None)
    if query_schema:
        parameters += [
            {"name": name, "in": "query", "required": False, "schema": schema}
            for name, schema in query_schema["properties"].items()
        ]
        operation["responses"]["400"] = _ERROR
    if parameters:
        operation["parameters"] = parameters
    request_schema = getattr(view, "request_schema", None)
    if request_schema:
        operation["requestBody"] = {
            "required": not view.body_optional,
            "content": {"application/json": {"schema": request_schema}},
        }
        operation["responses"].update({"400": _ERROR, "413": _ERROR})
    for status in getattr(view, "refusals", ()):
        operation["responses"][str(status)] = _ERROR
    auth = getattr(view, "auth", None)
    if auth:
        operation["security"] = [{"serviceToken": []} if auth == "service" else {"agentToken": []}]
        operation["responses"]["401"] = _ERROR
        if auth != "service":
            operation["x-required-role"] = auth
            operation["responses"]["403"] = _ERROR
    return operation


def openapi_document(app: Flask) -> dict[str, Any]:
    """Build the OpenAPI document of every /api route of `app`."""
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
        if not rule.rule.startswith("/api/"):
            continue
        path = _PARAMETER.sub(lambda match: "{" + match["name"] + "}", rule.rule)
        view = app.view_functions[rule.endpoint]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(rule.rule, method.lower(), view)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Handoff server", "version": "1", "description": ACCESS_RULES},
        "paths": paths,
        "components": {
            "securitySchemes": {
                "serviceToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "HANDOFF_SERVICE_TOKEN, used by the action server.",
                },
                "agentToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "From POST /api/auth/token; /api/stream also takes ?token=.",
                },
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error", "message"],
                    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
                }
            },
            "responses": {
                "Error": {
                    "description": "An error, in the API's one error shape.",
                    "content": _ERROR_CONTENT,
                },
                "DatabaseBusy": {
                    "description": (
                        "The database stayed locked by another writer for DB_LOCK_TIMEOUT_S"
                        " seconds: nothing was stored. Send the same request again after"
                        " Retry-After seconds."
                    ),
                    "headers": {
                        "Retry-After": {
                            "description": "Seconds to wait before sending the request again.",
                            "schema": {"type": "integer"},
                        }
                    },
                    "content": _ERROR_CONTENT,
                },
            },
        },
    }
