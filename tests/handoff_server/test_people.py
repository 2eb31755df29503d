"""Admins manage accounts: roles, teams, deactivation (tokens stop at once), password resets."""

from __future__ import annotations

import json
import time

from handoff_server import accounts
from tests.handoff_server.conftest import PASSWORD

NEW_PASSWORD = "a brand new passphrase"


def sign_in(client, username, password=PASSWORD):
    return client.post("/api/auth/token", json={"username": username, "password": password})


def test_an_admin_lists_everyone_with_the_roles_and_teams_to_choose_from(client, agent_headers):
    listed = client.get("/api/people", headers=agent_headers("ada")).json
    assert [person["username"] for person in listed["people"]] == ["ada", "alice", "bob", "sue"]
    assert all(person["active"] for person in listed["people"])
    assert listed["roles"] == ["agent", "supervisor", "admin"]
    assert listed["teams"] == ["billing", "general"]


def test_an_admin_creates_a_supervisor_and_moves_an_agent_to_another_team(client, agent_headers):
    admin = agent_headers("ada")
    created = client.post(
        "/api/agents",
        json={"username": "sam", "password": PASSWORD, "role": "supervisor", "team": "billing"},
        headers=admin,
    )
    assert created.status_code == 201
    moved = client.patch("/api/agents/alice", json={"team": "billing"}, headers=admin)
    assert moved.status_code == 200
    assert (moved.json["team"], moved.json["role"]) == ("billing", "agent")
    promoted = client.patch("/api/agents/alice", json={"role": "supervisor"}, headers=admin)
    assert promoted.json["role"] == "supervisor"
    assert sign_in(client, "sam").json["agent"]["role"] == "supervisor"


def test_a_deactivated_account_is_refused_at_once_and_cannot_sign_in(client, agent_headers):
    alice = agent_headers("alice")
    assert client.get("/api/conversations", headers=alice).status_code == 200

    off = client.patch("/api/agents/alice", json={"active": False}, headers=agent_headers("ada"))
    assert off.status_code == 200
    assert off.json["active"] is False

    refused = client.get("/api/conversations", headers=alice)
    assert refused.status_code == 401
    assert "deactivated" in refused.json["message"]
    assert sign_in(client, "alice").status_code == 401
    everyone = client.get("/api/agents", headers=agent_headers("bob")).json["agents"]
    assert "alice" not in [agent["username"] for agent in everyone]

    client.patch("/api/agents/alice", json={"active": True}, headers=agent_headers("ada"))
    assert sign_in(client, "alice").status_code == 200


def test_the_event_stream_of_a_deactivated_account_ends(client, agent_headers):
    alice = agent_headers("alice")
    stream = client.get("/api/stream?last_event_id=0", headers=alice, buffered=False)
    chunks = stream.response
    assert next(chunks).startswith(b"retry:")

    client.patch("/api/agents/alice", json={"active": False}, headers=agent_headers("ada"))

    rest = b"".join(chunks)  # ends: a stream that went on would never finish joining
    assert b"event: account" not in rest
    stream.close()


def test_a_password_reset_ends_the_old_tokens_and_the_new_password_signs_in(
    client, agent_headers, services
):
    old = agent_headers("bob")
    reset = client.post(
        "/api/agents/bob/password", json={"password": NEW_PASSWORD}, headers=agent_headers("ada")
    )
    assert reset.status_code == 200
    assert sign_in(client, "bob").status_code == 401
    token = sign_in(client, "bob", NEW_PASSWORD).json["token"]
    assert (
        client.get("/api/agents", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    )
    # Tokens carry whole seconds, so a token of the reset's own second still works: reset
    # again as if two seconds later, and the token signed before it is refused.
    accounts.reset_password(services.db, "bob", NEW_PASSWORD, now=time.time() + 2)
    assert client.get("/api/agents", headers=old).status_code == 401


def test_people_are_managed_by_admins_only_and_bad_changes_are_refused(client, agent_headers):
    admin, supervisor = agent_headers("ada"), agent_headers("sue")
    assert client.get("/api/people").status_code == 401
    assert client.get("/api/people", headers=supervisor).status_code == 403
    assert (
        client.patch("/api/agents/bob", json={"active": False}, headers=supervisor).status_code
        == 403
    )
    assert (
        client.patch("/api/agents/nobody", json={"team": "general"}, headers=admin).status_code
        == 404
    )
    cases = [
        ({"team": "pirates"}, "team"),
        ({"role": "emperor"}, "role"),
        ({"active": "no"}, "active"),
    ]
    for body, field in cases:
        response = client.patch("/api/agents/bob", json=body, headers=admin)
        assert response.status_code == 400, body
        assert field in response.json["message"]
    short = client.post("/api/agents/bob/password", json={"password": "short"}, headers=admin)
    assert short.status_code == 400
    myself = client.patch("/api/agents/ada", json={"active": False}, headers=admin)
    assert myself.status_code == 409
    demoted = client.patch("/api/agents/ada", json={"role": "agent"}, headers=admin)
    assert demoted.status_code == 409


def test_a_conversation_cannot_be_transferred_to_a_deactivated_agent(
    client, agent_headers, hand_off
):
    conversation = hand_off()
    client.patch("/api/agents/bob", json={"active": False}, headers=agent_headers("ada"))
    response = client.post(
        f"/api/conversations/{conversation['id']}/transfer",
        json={"agent": "bob"},
        headers=agent_headers("alice"),
    )
    assert response.status_code == 400
    assert "active agent" in response.json["message"]
    assert json.loads(response.get_data())["error"] == "bad_request"
