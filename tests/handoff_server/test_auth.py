"""Agent tokens and roles, and the service token of the action server."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from itsdangerous import URLSafeTimedSerializer

from handoff_server.auth import issue_token, read_token
from handoff_server.db import agents

PASSWORD = "correct horse battery"


def test_login_returns_a_token_that_opens_agent_routes(client):
    response = client.post("/api/auth/token", json={"username": "alice", "password": PASSWORD})

    assert response.status_code == 200
    assert response.json["agent"]["role"] == "agent"
    headers = {"Authorization": f"Bearer {response.json['token']}"}
    assert client.get("/api/conversations", headers=headers).status_code == 200


@pytest.mark.parametrize(
    "credentials",
    [
        {"username": "alice", "password": "wrong password"},
        {"username": "nobody", "password": PASSWORD},
    ],
)
def test_wrong_credentials_are_refused_alike(client, credentials):
    response = client.post("/api/auth/token", json=credentials)

    assert response.status_code == 401
    assert response.json == {"error": "unauthorized", "message": "wrong username or password"}


def test_login_body_is_validated(client):
    response = client.post("/api/auth/token", json={"username": "alice"})

    assert response.status_code == 400
    assert response.json["message"] == "field 'password' is required"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer forged.token.value"},
        {"Authorization": "Basic YWxpY2U6cGFzcw=="},
        {"Authorization": "Bearer test-service-token"},
    ],
)
def test_agent_routes_need_a_valid_agent_token(client, headers):
    response = client.get("/api/conversations", headers=headers)

    assert response.status_code == 401
    assert response.json["error"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].lower().startswith("bearer")


def test_a_token_signed_with_another_key_is_refused(client):
    foreign = URLSafeTimedSerializer("another-key", salt="handoff-agent-token").dumps({"agent": 1})

    response = client.get("/api/conversations", headers={"Authorization": f"Bearer {foreign}"})

    assert response.status_code == 401


def test_tokens_expire():
    token = issue_token("key", 7)

    read = read_token("key", token, max_age_s=60)
    assert read is not None
    agent_id, expires_at = read
    assert agent_id == 7
    assert expires_at == pytest.approx(time.time() + 60, abs=2)
    assert read_token("key", token, max_age_s=-1) is None


def test_a_deleted_agent_token_stops_working(client, agent_headers, services):
    headers = agent_headers("bob")
    with services.db.engine.begin() as conn:
        conn.execute(agents.delete().where(agents.c.username == "bob"))

    assert client.get("/api/conversations", headers=headers).status_code == 401


def test_only_admins_create_agents(client, agent_headers):
    body = {"username": "carol", "password": "long enough pw", "role": "agent", "name": "Carol"}

    by_supervisor = client.post("/api/agents", json=body, headers=agent_headers("sue"))
    by_admin = client.post("/api/agents", json=body, headers=agent_headers("ada"))
    again = client.post("/api/agents", json=body, headers=agent_headers("ada"))

    assert by_supervisor.status_code == 403
    assert by_supervisor.json == {
        "error": "forbidden",
        "message": "this needs the admin role; sue is supervisor",
    }
    assert by_admin.status_code == 201
    assert by_admin.json["name"] == "Carol"
    assert again.status_code == 409
    login = client.post("/api/auth/token", json={"username": "carol", "password": "long enough pw"})
    assert login.status_code == 200


def test_new_agent_password_must_be_long_enough(client, agent_headers):
    body = {"username": "carol", "password": "short", "role": "agent"}

    response = client.post("/api/agents", json=body, headers=agent_headers("ada"))

    assert response.status_code == 400
    assert response.json["message"] == "field 'password' must be at least 8 characters"


def test_the_query_token_is_taken_only_by_the_event_stream(client, agent_headers):
    token = agent_headers("alice")["Authorization"].removeprefix("Bearer ")

    assert client.get(f"/api/conversations?token={token}").status_code == 401


def test_agent_requests_record_activity_at_most_once_per_interval(client, agent_headers, services):
    alice = agent_headers("alice")
    updates = []

    def count_agent_updates(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("UPDATE AGENTS"):
            updates.append(statement)

    sa.event.listen(services.db.engine, "before_cursor_execute", count_agent_updates)
    try:
        for _ in range(5):
            assert client.get("/api/conversations", headers=alice).status_code == 200
        assert len(updates) == 1
        # Once the last record is older than the interval, the next request refreshes it.
        with services.db.engine.begin() as conn:
            conn.execute(agents.update().values(last_seen_at=time.time() - 31))
        updates.clear()
        for _ in range(3):
            client.get("/api/conversations", headers=alice)
        assert len(updates) == 1
    finally:
        sa.event.remove(services.db.engine, "before_cursor_execute", count_agent_updates)
