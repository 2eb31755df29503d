"""Check request bodies and query strings against the JSON Schemas the API documents."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

# The subset of JSON Schema used in schemas.py: type, enum, properties, required, items,
# minLength, maxLength, pattern, minimum, maximum. The same dicts appear in /api/openapi.json,
# so the documentation cannot drift from what is enforced.

_PYTHON_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda value: isinstance(value, str),
    "integer": lambda value: isinstance(value, int) and not isinstance(value, bool),
    "number": lambda value: isinstance(value, int | float) and not isinstance(value, bool),
    "boolean": lambda value: isinstance(value, bool),
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "null": lambda value: value is None,
}
_ARTICLES = {"integer": "an integer", "array": "an array", "object": "an object"}


def _describe(types: list[str]) -> str:
    return " or ".join(_ARTICLES.get(name, f"a {name}") for name in types).replace("a null", "null")


def check(value: Any, schema: dict[str, Any], field: str) -> None:
    """Raise 400 (or 413 for over-long text) naming the first field `value` gets wrong."""
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else types
    if types and not any(_PYTHON_TYPES[name](value) for name in types):
        raise BadRequest(f"field '{field}' must be {_describe(types)}")
    if value is None:
        return
    if "enum" in schema and value not in schema["enum"]:
        raise BadRequest(f"field '{field}' must be one of {', '.join(map(str, schema['enum']))}")
    if isinstance(value, str):
        _check_string(value, schema, field)
    elif isinstance(value, int | float):
        low, high = schema.get("minimum"), schema.get("maximum")
        if (low is not None and value < low) or (high is not None and value > high):
            raise BadRequest(f"field '{field}' must be between {low} and {high}")
    elif isinstance(value, dict):
        for name in schema.get("required", []):
            if value.get(name) is None:
                raise BadRequest(f"field '{_join(field, name)}' is required")
        for name, subschema in schema.get("properties", {}).items():
            if name in value:
                check(value[name], subschema, _join(field, name))
    elif isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            check(item, schema["items"], f"{field}[{index}]")


def _check_string(value: str, schema: dict[str, Any], field: str) -> None:
    if len(value) > schema.get("maxLength", len(value)):
        raise RequestEntityTooLarge(
            f"field '{field}' is longer than {schema['maxLength']} characters"
        )
    shortest = schema.get("minLength", 0)
    if len(value.strip()) < shortest:
        raise BadRequest(
            f"field '{field}' must not be empty"
            if shortest == 1
            else f"field '{field}' must be at least {shortest} characters"
        )
    if "pattern" in schema and not re.search(schema["pattern"], value):
        raise BadRequest(f"field '{field}' must match {schema['pattern']}")


def _join(parent: str, name: str) -> str:
    return f"{parent}.{name}" if parent else name


def read_json(schema: dict[str, Any], *, optional: bool = False) -> dict[str, Any]:
    """Parse and check the request's JSON body; `optional` lets an empty body mean {}."""
    if optional and not request.get_data():
        return {}
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        raise BadRequest("request body must be a JSON object")
    check(body, schema, "")
    return body


def read_query(schema: dict[str, Any]) -> dict[str, Any]:
    """Check the query string, turning integer parameters into ints."""
    query: dict[str, Any] = {}
    for name, subschema in schema["properties"].items():
        value = request.args.get(name)
        if value is None:
            continue
        if subschema.get("type") == "integer" and re.fullmatch(r"-?\d{1,18}", value):
            query[name] = int(value)
        else:
            query[name] = value
    check(query, schema, "")
    return query


def json_body(
    schema: dict[str, Any], *, optional: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Pass the checked JSON body to the view as `body` (and document it)."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return view(*args, body=read_json(schema, optional=optional), **kwargs)

        wrapper.request_schema = schema  # type: ignore[attr-defined]
        wrapper.body_optional = optional  # type: ignore[attr-defined]
        return wrapper

    return decorate


def query_args(schema: dict[str, Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Pass the checked query string to the view as `query` (and document it)."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return view(*args, query=read_query(schema), **kwargs)

        wrapper.query_schema = schema  # type: ignore[attr-defined]
        return wrapper

    return decorate
