"""Serve the JSON API: handoffs from the action server, the queue and replies for agents."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from werkzeug.exceptions import BadRequest, Unauthorized

from handoff_server import accounts, canned_responses, records, schemas, store
from handoff_server.auth import issue_token, require_role, require_service
from handoff_server.db import OPEN_STATES
from handoff_server.openapi import may_refuse, openapi_document
from handoff_server.pages import venue_of
from handoff_server.services import services
from handoff_server.suggestions import suggested_answers
from handoff_server.validation import json_body, query_args
from venue.answers import fill_answer
from venue.schedule import local_now

bp = Blueprint("api", __name__, url_prefix="/api")


def _created(payload: dict[str, Any], created: bool) -> tuple[Response, int]:
    return jsonify(payload), 201 if created else 200


@bp.after_request
def deliver_pushes(response: Response) -> Response:
    """Have the background loop deliver what this request stored; never wait for Rasa here."""
    if request.method == "POST" and response.status_code < 300:
        services().outbox.wake()
    return response


@bp.get("/openapi.json")
def openapi() -> Response:
    """Describe every API route (OpenAPI 3.1)."""
    return jsonify(openapi_document(current_app))


@bp.post("/handoffs")
@require_service
@json_body(schemas.HANDOFF)
def create_handoff(body: dict[str, Any]) -> tuple[Response, int]:
    """Queue a conversation the bot hands off, with its context packet."""
    app = services()
    conversation, created = store.enqueue(
        app.db, body, team=app.settings.team_for(body.get("tags") or [])
    )
    is_open = app.settings.business_hours.is_open()
    conversation["open"] = is_open
    conversation["agents_online"] = accounts.count_on_duty(app.db) if is_open else 0
    return _created(conversation, created)


@bp.post("/conversations/<int:conversation_id>/customer-messages")
@may_refuse(409)
@require_service
@json_body(schemas.CUSTOMER_MESSAGE)
def post_customer_message(conversation_id: int, body: dict[str, Any]) -> tuple[Response, int]:
    """Store a message the customer wrote while waiting for or talking to an agent.

    `faq_hits` are the FAQs the bot's engine found for it: the console suggests their answers.
    """
    message, created = store.append_message(
        services().db,
        conversation_id,
        body["text"],
        idempotency_key=body.get("idempotency_key"),
        faq_hits=body.get("faq_hits"),
    )
    return _created(message, created)


@bp.post("/conversations/<int:conversation_id>/offline-message")
@may_refuse(409)
@require_service
@json_body(schemas.OFFLINE_MESSAGE)
def post_offline_message(conversation_id: int, body: dict[str, Any]) -> Response:
    """Turn a waiting conversation into a ticket when the customer leaves a message."""
    return jsonify(
        store.leave_offline_message(services().db, conversation_id, body["contact"], body["text"])
    )


@bp.post("/conversations/<int:conversation_id>/abandon")
@may_refuse(409)
@require_service
def abandon(conversation_id: int) -> Response:
    """Record that the customer left the conversation."""
    return jsonify(store.abandon(services().db, conversation_id))


@bp.post("/conversations/<int:conversation_id>/rating")
@may_refuse(409)
@require_service
@json_body(schemas.RATING)
def post_rating(conversation_id: int, body: dict[str, Any]) -> Response:
    """Store the customer's rating (1 to 5) of a resolved conversation."""
    return jsonify(store.rate(services().db, conversation_id, body["rating"]))


@bp.post("/auth/token")
@may_refuse(401)
@json_body(schemas.TOKEN_REQUEST)
def create_token(body: dict[str, Any]) -> Response:
    """Exchange an agent's username and password for a bearer token."""
    app = services()
    agent = accounts.log_in(app.db, body["username"], body["password"])
    if agent is None:
        raise Unauthorized("wrong username or password")
    return jsonify(
        token=issue_token(app.settings.secret_key, agent["id"]),
        expires_in=app.settings.agent_token_ttl_s,
        agent=accounts.agent_json(agent),
    )


@bp.get("/agents")
@require_role("agent")
def list_agents() -> Response:
    """List agents and whether each is on duty."""
    return jsonify(agents=accounts.list_agents(services().db))


@bp.post("/agents")
@may_refuse(409)
@require_role("admin")
@json_body(schemas.NEW_AGENT)
def create_agent(body: dict[str, Any]) -> tuple[Response, int]:
    """Create an agent account."""
    agent = accounts.create_agent(
        services().db,
        body["username"],
        body["password"],
        body["role"],
        display_name=body.get("name"),
        team=body.get("team"),
    )
    return jsonify(accounts.agent_json(agent)), 201


@bp.get("/conversations")
@require_role("agent")
@query_args(schemas.CONVERSATION_QUERY)
def list_conversations(query: dict[str, Any]) -> Response:
    """List conversations in a state (queued and assigned by default)."""
    states = [query["state"]] if "state" in query else list(OPEN_STATES)
    conversations = records.list_conversations(
        services().db, states, team=query.get("team"), limit=query.get("limit", 100)
    )
    return jsonify(conversations=conversations)


@bp.get("/conversations/<int:conversation_id>")
@require_role("agent")
def get_conversation(conversation_id: int) -> Response:
    """Return a conversation's context packet, transcript, notes and state history.

    Any agent may read any conversation, in any state and assigned to anyone: agents help
    each other and supervisors review. `suggested_answers` are the knowledge base's answers
    to the customer's latest message, best first, for the agent to edit and send.
    """
    app = services()
    detail = records.conversation_detail(app.db, conversation_id)
    # Placeholders say what the bot would have said there: the kiosk's place, the time on board.
    kiosk = app.assistant.kiosks.get(detail["kiosk_id"] or "")
    venue = venue_of(app.settings.venue_dir)
    here = venue.places.get(kiosk.place) if kiosk else None
    now = local_now(venue, app.settings.venue_now)
    detail["suggested_answers"] = suggested_answers(
        detail["transcript"],
        app.knowledge_base.faqs,
        lambda answer: fill_answer(answer, venue, here, now),
    )
    return jsonify(detail)


@bp.post("/conversations/<int:conversation_id>/claim")
@may_refuse(409)
@require_role("agent")
def claim(conversation_id: int) -> Response:
    """Take a queued conversation; the customer hears that an agent joined."""
    return jsonify(store.claim(services().db, conversation_id, g.agent))


@bp.post("/conversations/<int:conversation_id>/messages")
@may_refuse(409)
@require_role("agent")
@json_body(schemas.MESSAGE)
def post_agent_message(conversation_id: int, body: dict[str, Any]) -> tuple[Response, int]:
    """Send a reply to the customer on their channel (through Rasa)."""
    message, created = store.append_message(
        services().db,
        conversation_id,
        body["text"],
        agent=g.agent,
        idempotency_key=body.get("idempotency_key"),
    )
    return _created(message, created)


@bp.post("/conversations/<int:conversation_id>/typing")
@may_refuse(409)
@require_role("agent")
def post_typing(conversation_id: int) -> Response:
    """Show the other agents' consoles that this agent is writing a reply (a stream event).

    Only who may send the reply shows as typing: the assignee, or a supervisor (403 otherwise).
    """
    return jsonify(store.note_typing(services().db, conversation_id, g.agent))


@bp.post("/conversations/<int:conversation_id>/notes")
@require_role("agent")
@json_body(schemas.NOTE)
def post_note(conversation_id: int, body: dict[str, Any]) -> tuple[Response, int]:
    """Add an internal note to a conversation.

    Any agent may add a note to any conversation, a colleague's included; customers never see
    notes. Replies to the customer are the assignee's (or a supervisor's) alone.
    """
    return jsonify(store.add_note(services().db, conversation_id, g.agent, body["text"])), 201


@bp.post("/conversations/<int:conversation_id>/transfer")
@may_refuse(409)
@require_role("agent")
@json_body(schemas.TRANSFER)
def transfer(conversation_id: int, body: dict[str, Any]) -> Response:
    """Hand a conversation to another agent, or to another team's queue, with a note.

    The receiving agent's or team's consoles hear a `transfer` event.
    """
    to_agent, to_team = body.get("agent"), body.get("team")
    if (to_agent is None) == (to_team is None):
        raise BadRequest("give exactly one of field 'agent' or field 'team'")
    teams = services().settings.teams
    if to_team is not None and to_team not in teams:
        raise BadRequest(f"field 'team' must be one of {', '.join(teams)}")
    return jsonify(
        store.transfer(
            services().db,
            conversation_id,
            g.agent,
            to_agent=to_agent,
            to_team=to_team,
            note=body.get("note"),
        )
    )


@bp.post("/conversations/<int:conversation_id>/resolve")
@may_refuse(409)
@require_role("agent")
@json_body(schemas.RESOLVE, optional=True)
def resolve(conversation_id: int, body: dict[str, Any]) -> Response:
    """Close a conversation and hand the customer back to the bot."""
    return jsonify(store.resolve(services().db, conversation_id, g.agent, body.get("note")))


@bp.post("/conversations/<int:conversation_id>/reopen")
@may_refuse(409)
@require_role("agent")
def reopen(conversation_id: int) -> Response:
    """Take a resolved conversation back and tell the customer a person is with them again.

    For messages the customer wrote before the resolve reached them (marked `late`).
    """
    return jsonify(store.reopen(services().db, conversation_id, g.agent))


@bp.get("/teams")
@require_role("agent")
def list_teams() -> Response:
    """List the teams a conversation can be transferred to."""
    return jsonify(teams=services().settings.teams)


@bp.get("/canned-responses")
@require_role("agent")
def list_canned_responses() -> Response:
    """List the canned responses agents insert by typing / and a shortcut."""
    return jsonify(canned_responses=canned_responses.list_canned(services().db))


@bp.post("/canned-responses")
@may_refuse(409)
@require_role("supervisor")
@json_body(schemas.CANNED_RESPONSE)
def create_canned_response(body: dict[str, Any]) -> tuple[Response, int]:
    """Add a canned response; its shortcut must be free."""
    canned = canned_responses.create_canned(services().db, body["shortcut"], body["text"], g.agent)
    return jsonify(canned), 201


@bp.post("/canned-responses/<int:canned_id>")
@may_refuse(409)
@require_role("supervisor")
@json_body(schemas.CANNED_RESPONSE)
def update_canned_response(canned_id: int, body: dict[str, Any]) -> Response:
    """Change a canned response's shortcut and text."""
    return jsonify(
        canned_responses.update_canned(
            services().db, canned_id, body["shortcut"], body["text"], g.agent
        )
    )


@bp.post("/canned-responses/<int:canned_id>/delete")
@require_role("supervisor")
def delete_canned_response(canned_id: int) -> Response:
    """Delete a canned response."""
    return jsonify(canned_responses.delete_canned(services().db, canned_id))
