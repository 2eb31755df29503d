"""Check the action server's answers with one validator built once, not one per answer.

Rasa 3.6's RemoteAction checks every answer of the action server with
`jsonschema.validate`, which first checks the schema itself against the meta-schema and
builds a new validator each time. py-spy on the Rasa process under 8 customers at once
(bench.turns) put 44% of its CPU there, more than NLU and the policies together. The same
schema and the same errors, with the schema checked once per process.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@cache
def response_validator() -> Any:
    """Return the validator of the action server's answers, its schema checked once."""
    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def validate_action_result(_action: RemoteAction, result: dict[str, Any]) -> bool:
    """Raise the error `jsonschema.validate` would raise for an invalid answer, as Rasa does."""
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
    """Make Rasa's remote actions use the validator built once."""
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
