"""Who may change a handed-off conversation, and in which states: raised as domain errors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from handoff_server import accounts
from handoff_server.domain_errors import Conflict, Forbidden

# An agent's account row, as auth puts it in `g.agent`.
Agent = Mapping[str, Any]


def require_state(conversation: Mapping[str, Any], states: Sequence[str], action: str) -> None:
    if conversation["state"] not in states:
        raise Conflict(f"conversation {conversation['id']} is {conversation['state']}; {action}")


def require_owner(conversation: Mapping[str, Any], agent: Agent, action: str) -> None:
    if conversation["assignee_id"] != agent["id"] and not accounts.has_role(
        agent["role"], "supervisor"
    ):
        raise Forbidden(
            f"conversation {conversation['id']} is assigned to "
            f"{conversation['assignee_username']}; only they or a supervisor can {action}"
        )
