"""Hostile input to the handoff API: every malformed request gets a clear 4xx, never a 500.

Each case is what a client that sends it would see; the data it tried to store stays out,
so every console keeps reading valid JSON. Both databases run every case (conftest.py):
PostgreSQL refuses things SQLite lets through (NUL characters, ids past 32 bits).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from handoff_server.schemas import MAX_ROW_ID

# Past what an id column holds in PostgreSQL (int4), in SQLite (int64), and in any integer.
IDS_NO_ROW_CAN_HAVE = [MAX_ROW_ID + 1, 2**63, 10**30]
NOT_FINITE = ["NaN", "Infinity", "-Infinity", "1e400"]


def strict_json(text: bytes) -> Any:
    """Parse JSON as browsers do: NaN and Infinity are not JSON."""

    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def post_raw(client, path: str, text: str, headers: dict[str, str]):
    return client.post(path, data=text, headers=headers, content_type="application/json")


def id_routes(app) -> list[tuple[str, str]]:
    """Every API route that takes an id in its path, with its method."""
    return sorted(
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/") and "<int:" in rule.rule
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    )


@pytest.fixture
def admin(agent_headers) -> dict[str, str]:
    return agent_headers("ada")


@pytest.fixture
def assigned(client, hand_off, admin) -> int:
    """A conversation claimed by Ada, ready for replies."""
    conversation_id = hand_off("conv-1")["id"]
    client.post(f"/api/conversations/{conversation_id}/claim", headers=admin)
    return int(conversation_id)


def assert_refused(response, status: int, field: str) -> None:
    assert response.status_code == status, response.json
    assert f"field '{field}'" in response.json["message"]


def assert_conversations_readable(client, headers: dict[str, str]) -> list[dict[str, Any]]:
    """The console's queue and every conversation in it still parse as JSON."""
    listed = client.get("/api/conversations?state=queued", headers=headers)
    conversations = strict_json(listed.data)["conversations"]
    for conversation in conversations:
        strict_json(client.get(f"/api/conversations/{conversation['id']}", headers=headers).data)
    return list(conversations)


def test_every_id_route_answers_404_for_an_id_no_row_can_have(app, client, admin, service):
    assert len(id_routes(app)) >= 12
    for method, rule in id_routes(app):
        for row_id in IDS_NO_ROW_CAN_HAVE:
            path = re.sub(r"<int:\w+>", str(row_id), rule)
            headers = service if "customer" in rule or "offline" in rule else admin
            response = client.open(path, method=method, json={}, headers=headers)

            assert response.status_code == 404, (method, path, response.json)
            assert response.json["error"] == "not_found"


def test_openapi_states_the_range_of_path_ids(client):
    document = client.get("/api/openapi.json").json
    parameter = document["paths"]["/api/conversations/{conversation_id}"]["get"]["parameters"][0]

    assert parameter["schema"] == {"type": "integer", "minimum": 1, "maximum": MAX_ROW_ID}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"customer": {"name": "Maria \ud800"}}, "customer.name"),
        ({"summary": "wants a refund \udfff"}, "summary"),
        ({"sender_id": "\udc00abc"}, "sender_id"),
        ({"transcript": [{"role": "customer", "text": "hi \ud83d"}]}, "transcript[0].text"),
        ({"tags": ["ok", "\ud800"]}, "tags[1]"),
    ],
)
def test_a_lone_surrogate_in_a_handoff_is_a_400_naming_the_field(
    client, service, admin, packet, changes, field
):
    # json.dumps writes a lone surrogate as its \\uXXXX escape, as a hostile client would.
    response = post_raw(
        client, "/api/handoffs", json.dumps({**packet("conv-9"), **changes}), service
    )

    assert_refused(response, 400, field)
    assert "Unicode" in response.json["message"]
    assert assert_conversations_readable(client, admin) == []


def test_a_lone_surrogate_in_a_reply_is_a_400_and_the_transcript_is_unchanged(
    client, admin, assigned
):
    path = f"/api/conversations/{assigned}"
    before = client.get(path, headers=admin).json["transcript"]

    response = post_raw(client, f"{path}/messages", '{"text": "card \\udc00"}', admin)

    assert_refused(response, 400, "text")
    assert client.get(path, headers=admin).json["transcript"] == before


def test_a_lone_surrogate_in_a_key_is_a_400_naming_the_object(client, service, packet):
    body = json.dumps(packet("conv-9")).replace('"name"', '"\\ud800"', 1)

    assert_refused(post_raw(client, "/api/handoffs", body, service), 400, "customer")


@pytest.mark.parametrize("constant", NOT_FINITE)
@pytest.mark.parametrize(
    ("placeholder", "field"),
    [
        ('"sentiment": -0.42', "sentiment"),
        ('"confidence": 0.91', "transcript[0].confidence"),
        ('"score": 0.82', "transcript[0].faq_hits[0].score"),
        ('"timestamp": 1763800000.1', "transcript[0].timestamp"),
    ],
)
def test_nan_and_infinity_in_a_handoff_are_refused_naming_the_field(
    client, service, admin, packet, constant, placeholder, field
):
    name = placeholder.split(":")[0]
    body = json.dumps(packet("conv-9")).replace(placeholder, f"{name}: {constant}")

    response = post_raw(client, "/api/handoffs", body, service)

    assert_refused(response, 400, field)
    assert "finite number" in response.json["message"]
    assert assert_conversations_readable(client, admin) == []


def test_infinity_in_a_field_the_schema_does_not_know_is_refused_too(
    client, service, admin, packet
):
    # faq_hits are stored as JSON as sent: an extra key must not smuggle in a non-JSON number.
    body = json.dumps(packet("conv-9")).replace('"score": 0.82', '"score": 0.82, "rank": Infinity')

    assert_refused(
        post_raw(client, "/api/handoffs", body, service), 400, "transcript[0].faq_hits[0].rank"
    )
    assert assert_conversations_readable(client, admin) == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"sender_id": "conv\x00-9"}, "sender_id"),
        ({"summary": "a\x00b"}, "summary"),
        ({"customer": {"name": "Maria\x00"}}, "customer.name"),
        ({"transcript": [{"role": "customer", "text": "hi\x00"}]}, "transcript[0].text"),
    ],
)
def test_a_nul_character_in_a_handoff_is_a_400_naming_the_field(
    client, service, admin, packet, changes, field
):
    response = client.post("/api/handoffs", json={**packet("conv-9"), **changes}, headers=service)

    assert_refused(response, 400, field)
    assert "NUL" in response.json["message"]
    assert assert_conversations_readable(client, admin) == []


def test_a_nul_character_in_a_reply_or_its_idempotency_key_is_a_400(client, admin, assigned):
    path = f"/api/conversations/{assigned}/messages"

    text = client.post(path, json={"text": "a\x00b"}, headers=admin)
    key = client.post(path, json={"text": "ab", "idempotency_key": "k\x00"}, headers=admin)

    assert_refused(text, 400, "text")
    assert_refused(key, 400, "idempotency_key")


def test_a_nul_character_in_a_sign_in_is_a_400_not_a_crash(client):
    response = client.post("/api/auth/token", json={"username": "ali\x00ce", "password": "x"})

    assert_refused(response, 400, "username")


def test_a_nul_character_in_a_new_agent_is_a_400_and_no_account_is_made(client, admin):
    body = {"username": "bobby", "password": "long enough pass\x00", "role": "agent"}

    response = client.post("/api/agents", json=body, headers=admin)

    assert_refused(response, 400, "password")
    usernames = [
        agent["username"] for agent in client.get("/api/agents", headers=admin).json["agents"]
    ]
    assert "bobby" not in usernames


def test_a_nul_character_in_an_unanswered_question_is_a_400(client, service):
    body = {"sender_id": "c-1", "channel": "web", "text": "x\x00", "outcome": "none"}

    assert_refused(
        client.post("/api/unanswered-questions", json=body, headers=service), 400, "text"
    )


def test_a_nul_character_in_a_query_string_is_a_400(client, admin):
    assert_refused(client.get("/api/conversations?team=a%00b", headers=admin), 400, "team")


def test_json_nested_past_any_real_body_is_a_400(client, service):
    body = "[" * 100_000 + "]" * 100_000

    response = post_raw(client, "/api/handoffs", body, service)

    assert response.status_code == 400
    assert response.json["message"] == "request body must be a JSON object"


@pytest.mark.parametrize("last_event_id", ["²", "9" * 30, "-1", "12a"])
def test_a_last_event_id_that_the_stream_never_sent_is_a_400(client, admin, last_event_id):
    response = client.get(
        "/api/stream", headers={**admin, "Last-Event-ID": last_event_id}, buffered=False
    )
    try:
        assert response.status_code == 400
        assert "Last-Event-ID" in response.json["message"]
    finally:
        response.close()


@pytest.mark.parametrize("idle", ["²", "9" * 5000, "-5", "1e3"])
def test_the_kiosk_page_ignores_an_unreadable_idle_time(client, idle):
    response = client.get(f"/kiosk?idle={idle}")

    assert response.status_code == 200
    assert 'data-idle-seconds="120"' in response.text
