"""Deliver each push of the handoff server once, however often its outbox sends it.

The handoff server's outbox triggers an intent in the customer's conversation for every
agent message, "joined", queue update and resolve, and names it with an entity `push_id`.
When a deliverer dies after Rasa accepted a push but before the outbox recorded it, the
outbox sends it again. This middleware serves those pushes in place of Rasa's own
`trigger_intent` route (same request, same token, same work) with two differences:

- under the conversation's lock, a push id the tracker already holds is answered without
  running it again; the tracker is what was delivered, so this survives every restart;
- the turn is shielded from the caller hanging up. Sanic cancels a handler whose client
  disconnected, which could cut a turn after the customer saw the message and before the
  tracker recorded it: the message would then be shown twice.

Requests without a push id, with another token, or for an unknown intent go on to Rasa.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
from typing import Any
from urllib.parse import unquote

from rasa.core.agent import Agent
from rasa.server import _get_output_channel
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, json

from lumen.vocabulary import PUSH_ID

logger = logging.getLogger(__name__)

TRIGGER_INTENT = re.compile(r"^/conversations/(?P<sender_id>.+)/trigger_intent$")


def deliver_pushes_once(app: Sanic, api_token: str) -> None:
    """Serve the handoff server's pushes in front of Rasa's `trigger_intent` route."""

    async def serve_push(request: Request) -> HTTPResponse | None:
        match = TRIGGER_INTENT.match(request.path)
        if request.method != "POST" or match is None:
            return None
        # Only for the API's own clients; anyone else goes on to Rasa's 401.
        if not api_token or not hmac.compare_digest(request.args.get("token", ""), api_token):
            return None
        push = push_of(request.json)
        agent: Agent | None = getattr(app.ctx, "agent", None)
        if push is None or agent is None or not agent.is_ready():
            return None
        intent, entities, push_id = push
        if intent not in agent.domain.intents:
            return None
        sender_id = unquote(match["sender_id"])
        turn = deliver(agent, request, sender_id, intent, entities, push_id)
        delivered = await asyncio.shield(turn)
        return json({"push_id": push_id, "delivered": delivered})

    app.register_middleware(serve_push, "request")


def push_of(body: Any) -> tuple[str, dict[str, Any], str] | None:
    """Return the intent, entities and push id of a push's body; None for anything else."""
    if not isinstance(body, dict) or not isinstance(body.get("name"), str):
        return None
    entities = body.get("entities")
    if not isinstance(entities, dict) or entities.get(PUSH_ID) is None:
        return None
    return body["name"], entities, str(entities[PUSH_ID])


async def deliver(
    agent: Agent,
    request: Request,
    sender_id: str,
    intent: str,
    entities: dict[str, Any],
    push_id: str,
) -> bool:
    """Trigger the push's intent unless the conversation has it already; say whether it ran."""
    async with agent.lock_store.lock(sender_id):
        tracker = await agent.processor.fetch_tracker_and_update_session(sender_id)
        if was_delivered(tracker, push_id):
            logger.info("Push %s to %s was delivered already; skipped.", push_id, sender_id)
            return False
        await agent.trigger_intent(
            intent_name=intent,
            entities=entities,
            output_channel=_get_output_channel(request, tracker),
            tracker=tracker,
        )
        return True


def was_delivered(tracker: DialogueStateTracker, push_id: str) -> bool:
    """Tell whether an intent carrying `push_id` is in the conversation already."""
    return any(
        isinstance(event, UserUttered) and push_id in _push_ids(event.entities)
        for event in reversed(tracker.events)
    )


def _push_ids(entities: list[dict[str, Any]]) -> set[str]:
    return {str(entity.get("value")) for entity in entities if entity.get("entity") == PUSH_ID}
