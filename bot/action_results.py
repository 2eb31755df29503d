"""Check the action server's answers as Rasa does, at a fraction of Rasa's cost.

Rasa 3.6's RemoteAction checks every answer of the action server with
`jsonschema.validate`, which first checks the schema itself against the meta-schema and
builds a new validator each time. py-spy on the Rasa process under 8 customers at once
(bench.turns) put 44% of its CPU there, more than NLU and the policies together. So the
validators are built once, their schemas checked once.

Even so, each event of an answer is tried against all 23 kinds of event of the schema's
`oneOf` (about 1.5 ms for a FAQ answer of three events, some 4% of Rasa's FAQ turn). The
kinds differ in their `event` constant, so an event can only ever be of the kind its `event`
names: a valid answer is recognised by checking each event against that kind alone. Any
other answer goes through the whole schema, for the error Rasa would raise.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


def validator(schema: dict[str, Any]) -> Any:
    """Return a validator of `schema`, the schema checked against its meta-schema."""
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


@cache
def response_validator() -> Any:
    """Return the validator of the action server's answers."""
    return validator(RemoteAction.action_response_format_spec())


@cache
def event_validators() -> dict[str, Any]:
    """Return a validator for each kind of event, by its `event` constant: the answers'
    event schema with only that kind in place of the `oneOf` of all kinds."""
    event_schema = RemoteAction.action_response_format_spec()["properties"]["events"]["items"]
    common = {key: value for key, value in event_schema.items() if key != "oneOf"}
    return {
        kind["properties"]["event"]["const"]: validator({"allOf": [common, kind]})
        for kind in event_schema["oneOf"]
    }


def is_valid_answer(result: Any) -> bool:
    """Tell whether `result` is valid, trying each event against its own kind only."""
    events = result.get("events", []) if isinstance(result, dict) else None
    if not isinstance(events, list):
        return response_validator().is_valid(result)
    by_kind = event_validators()
    return response_validator().is_valid({**result, "events": []}) and all(
        isinstance(event, dict)
        and isinstance(event.get("event"), str)
        and event["event"] in by_kind
        and by_kind[event["event"]].is_valid(event)
        for event in events
    )


def validate_action_result(_action: RemoteAction, result: dict[str, Any]) -> bool:
    """Raise the error `jsonschema.validate` would raise for an invalid answer, as Rasa does."""
    if is_valid_answer(result):
        return True
    error = best_match(response_validator().iter_errors(result))
    if error is not None:
        error.message += (
            ". Failed to validate Action server response from API, make sure your response "
            f"from the Action endpoint is valid. For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


def validate_action_results_once() -> None:
    """Build the validators now (a bad schema stops the server at startup), and make Rasa's
    remote actions use them."""
    response_validator()
    event_validators()
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
