"""One JSON error shape everywhere, the health check, and an honest OpenAPI document."""

from __future__ import annotations

import re

import pytest

from handoff_server import accounts, domain_errors, records


def test_healthz(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_unknown_route_is_a_json_404(client):
    response = client.get("/api/nothing-here")

    assert response.status_code == 404
    assert response.json["error"] == "not_found"
    assert set(response.json) == {"error", "message"}


def test_wrong_method_is_a_json_405_that_names_the_allowed_ones(client):
    response = client.delete("/api/handoffs")

    assert response.status_code == 405
    assert response.json["error"] == "method_not_allowed"
    assert "POST" in response.headers["Allow"]


def test_unexpected_failure_is_a_json_500_without_details(app, caplog):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom")

    assert response.status_code == 500
    assert response.json == {"error": "internal_server_error", "message": "internal server error"}
    assert "secret internals" in caplog.text


@pytest.mark.parametrize("data", ["{not json", "[1, 2]", "", '"text"'])
def test_a_body_that_is_not_a_json_object_is_a_400(client, service, data):
    response = client.post(
        "/api/handoffs", data=data, headers=service, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json == {
        "error": "bad_request",
        "message": "request body must be a JSON object",
    }


def test_an_oversized_body_is_a_json_413(client, service):
    response = client.post(
        "/api/handoffs",
        data="x" * (1024 * 1024 + 1),
        headers=service,
        content_type="application/json",
    )

    assert response.status_code == 413
    assert response.json["error"] == "request_entity_too_large"


def test_openapi_documents_every_api_route(app, client):
    document = client.get("/api/openapi.json").json

    assert document["openapi"].startswith("3.1")
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        assert path in document["paths"], path
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in document["paths"][path], f"{method} {path}"


def test_openapi_shows_auth_and_bodies_as_enforced(client):
    paths = client.get("/api/openapi.json").json["paths"]

    handoff = paths["/api/handoffs"]["post"]
    assert handoff["security"] == [{"serviceToken": []}]
    body = handoff["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["sender_id", "channel", "reason"]
    assert body["properties"]["channel"]["enum"] == ["web", "kiosk"]
    assert paths["/api/agents"]["post"]["x-required-role"] == "admin"
    assert paths["/api/conversations/{conversation_id}/claim"]["post"]["security"] == [
        {"agentToken": []}
    ]
    assert (
        paths["/api/conversations/{conversation_id}/resolve"]["post"]["requestBody"]["required"]
        is False
    )
    assert "security" not in paths["/api/auth/token"]["post"]
    listed = {p["name"] for p in paths["/api/conversations"]["get"]["parameters"]}
    assert listed == {"state", "team", "limit"}


def test_the_data_layer_refuses_in_its_own_words_and_the_api_maps_them(client, services, service):
    # No HTTP in the data layer: a duplicate agent is a Conflict, a missing conversation
    # NotFound, both of domain_errors; errors.py alone turns them into 409 and 404.
    with pytest.raises(domain_errors.Conflict, match="already exists"):
        accounts.create_agent(services.db, "alice", "a-long-password", "agent")
    with services.db.read() as conn, pytest.raises(domain_errors.NotFound, match="42"):
        records.load_conversation(conn, 42)

    response = client.post("/api/conversations/42/abandon", json={}, headers=service)

    assert response.status_code == 404
    assert response.json == {"error": "not_found", "message": "conversation 42 not found"}


def test_openapi_documents_the_503_of_every_change_and_when_to_retry(client):
    document = client.get("/api/openapi.json").json
    paths = document["paths"]

    busy = {"$ref": "#/components/responses/DatabaseBusy"}
    assert (
        paths["/api/conversations/{conversation_id}/messages"]["post"]["responses"]["503"] == busy
    )
    assert paths["/api/handoffs"]["post"]["responses"]["503"] == busy
    assert "503" not in paths["/api/conversations"]["get"]["responses"]
    assert "Retry-After" in document["components"]["responses"]["DatabaseBusy"]["headers"]


def test_openapi_says_that_agents_read_every_conversation_and_note_in_colleagues(client):
    document = client.get("/api/openapi.json").json
    conversation = "/api/conversations/{conversation_id}"

    assert "read every conversation" in document["info"]["description"]
    assert "a colleague's included" in document["info"]["description"]
    assert "Any agent may read any" in document["paths"][conversation]["get"]["description"]
    assert "a colleague's" in document["paths"][f"{conversation}/notes"]["post"]["description"]
    assert "403" in document["paths"][f"{conversation}/typing"]["post"]["responses"]
