"""Check request bodies and query strings against the JSON Schemas the API documents."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.routing import IntegerConverter, Map

from handoff_server.schemas import ROW_ID

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
# What JSON carries but no database column or JSON reader takes back: NUL (PostgreSQL's text
# refuses it) and lone UTF-16 surrogates (not Unicode: no UTF-8 encoder writes them).
_UNSTORABLE_CHARACTER = re.compile(r"[\x00\ud800-\udfff]")
_INTEGER = re.compile(r"-?[0-9]{1,18}")


class RowIdConverter(IntegerConverter):
    """Match an id in a path only within what an id column holds: beyond it, a plain 404."""

    regex = r"[0-9]+"  # ASCII digits only; \d would take other scripts' digits too

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        super().__init__(map, min=ROW_ID["minimum"], max=ROW_ID["maximum"])


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
    elif isinstance(value, list):
        if len(value) > schema.get("maxItems", len(value)):
            raise BadRequest(f"field '{field}' must have at most {schema['maxItems']} items")
        if len(value) < schema.get("minItems", 0):
            raise BadRequest(f"field '{field}' must have at least {schema['minItems']} items")
        for index, item in enumerate(value if "items" in schema else []):
            check(item, schema["items"], f"{field}[{index}]")


def _check_string(value: str, schema: dict[str, Any], field: str) -> None:
    if len(value) > schema.get("maxLength", len(value)):
        raise RequestEntityTooLarge(
            f"field '{field}' is longer than {schema['maxLength']} characters"
        )
    shortest = schema.get("minLength", 0)
    # One character means "not blank" (documented by the NOT_BLANK pattern); longer minimums,
    # such as a password's, count every character, as JSON Schema does.
    if shortest == 1 and not value.strip():
        raise BadRequest(f"field '{field}' must not be empty")
    if len(value) < shortest:
        raise BadRequest(f"field '{field}' must be at least {shortest} characters")
    if "pattern" in schema and not re.search(schema["pattern"], value):
        raise BadRequest(f"field '{field}' must match {schema['pattern']}")


def _join(parent: str, name: str) -> str:
    return f"{parent}.{name}" if parent else name


def _text_problem(text: str) -> str | None:
    found = _UNSTORABLE_CHARACTER.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "must not contain NUL characters"
    return "must be valid Unicode text (it holds a lone UTF-16 surrogate)"


def check_storable(value: Any, field: str) -> None:
    """Raise 400 naming the first field, known to the schema or not, that cannot be stored.

    JSON as Python reads it lets through NaN and Infinity, which are not JSON (a console
    could no longer read the conversation back), and text `_text_problem` refuses. The walk
    covers every key, since some objects (faq_hits) are stored as sent.
    """
    pending: list[tuple[Any, str]] = [(value, field)]
    while pending:  # a loop, not recursion: the parser allows deeper nesting than Python does
        item, path = pending.pop()
        if isinstance(item, float) and not math.isfinite(item):
            raise BadRequest(f"field '{path}' must be a finite number")
        if isinstance(item, str) and (problem := _text_problem(item)):
            raise BadRequest(f"field '{path}' {problem}")
        if isinstance(item, dict):
            for name in item:
                if problem := _text_problem(name):
                    owner = f"field '{path}'" if path else "the request body"
                    raise BadRequest(f"a key of {owner} {problem}")
            pending.extend((child, _join(path, name)) for name, child in reversed(item.items()))
        elif isinstance(item, list):
            pending.extend(
                (child, f"{path}[{index}]") for index, child in reversed(list(enumerate(item)))
            )


def read_json(schema: dict[str, Any], *, optional: bool = False) -> dict[str, Any]:
    """Parse and check the request's JSON body; `optional` lets an empty body mean {}."""
    if optional and not request.get_data():
        return {}
    try:
        body = request.get_json(force=True, silent=True)
    except RecursionError:  # nested deeper than the parser goes: no body of this API is
        body = None
    if not isinstance(body, dict):
        raise BadRequest("request body must be a JSON object")
    check_storable(body, "")
    check(body, schema, "")
    return body


def read_integer(text: str, schema: dict[str, Any], field: str) -> int:
    """Parse a decimal integer from a query string or a header and check it against `schema`."""
    if not _INTEGER.fullmatch(text):
        raise BadRequest(f"field '{field}' must be an integer")
    value = int(text)
    check(value, schema, field)
    return value


def read_query(schema: dict[str, Any]) -> dict[str, Any]:
    """Check the query string, turning integer parameters into ints."""
    query: dict[str, Any] = {}
    for name, subschema in schema["properties"].items():
        value = request.args.get(name)
        if value is None:
            continue
        is_integer = subschema.get("type") == "integer"
        query[name] = read_integer(value, subschema, name) if is_integer else value
    check_storable(query, "")
    try:
        check(query, schema, "")
    except RequestEntityTooLarge as error:  # 413 is for bodies; a long parameter is a 400
        raise BadRequest(error.description) from error
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
