"""Handoffs from the action server: the context packet, idempotency, the queue and its order."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from handoff_server.db import agents, conversations, messages
from handoff_server.settings import WEEKDAYS


def test_handoff_stores_the_context_packet_and_transcript(client, service, packet, services):
    response = client.post(
        "/api/handoffs", json=packet("conv-1", tags=["refunds"]), headers=service
    )

    assert response.status_code == 201
    assert response.json["team"] == "billing"
    with services.db.read() as conn:
        row = conn.execute(sa.select(conversations)).one()
        turns = conn.execute(sa.select(messages).order_by(messages.c.seq)).all()
    assert (row.sender_id, row.channel, row.reason, row.state) == (
        "conv-1",
        "web",
        "customer_request",
        "queued",
    )
    assert (row.customer_name, row.customer_email, row.sentiment) == (
        "Maria Lopez",
        "maria@example.com",
        -0.42,
    )
    assert row.tags == ["refunds"]
    assert [(turn.seq, turn.role, turn.text) for turn in turns] == [
        (1, "customer", "where is my refund"),
        (2, "bot", "Refunds go back to your card in 5 days."),
    ]
    assert turns[0].intent == "ask_question"
    assert turns[0].created_at == pytest.approx(1763800000.1)


def test_minimal_handoff_needs_only_id_channel_and_reason(client, service):
    body = {"sender_id": "kiosk-7", "channel": "kiosk", "reason": "bot_failure"}

    response = client.post("/api/handoffs", json=body, headers=service)

    assert response.status_code == 201
    assert response.json["sender_id"] == "kiosk-7"
    assert response.json["team"] == "general"
    assert response.json["customer_name"] is None


def test_repeated_handoff_returns_the_open_conversation_without_duplicating(
    client, service, packet, services
):
    first = client.post("/api/handoffs", json=packet("conv-1"), headers=service)
    second = client.post("/api/handoffs", json=packet("conv-1"), headers=service)

    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json["id"] == first.json["id"]
    assert second.json["position"] == 1
    with services.db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(conversations)).scalar() == 1
        assert conn.execute(sa.select(sa.func.count()).select_from(messages)).scalar() == 2


def test_queue_is_ordered_by_priority_then_age(client, hand_off, agent_headers):
    hand_off("misses", reason="repeated_misses")
    hand_off("request-1", reason="customer_request")
    hand_off("frustrated", reason="frustration")
    hand_off("sensitive", reason="sensitive_topic")
    hand_off("request-2", reason="customer_request")
    hand_off("failure", reason="bot_failure")

    listed = client.get("/api/conversations?state=queued", headers=agent_headers("alice")).json
    order = [(c["sender_id"], c["position"]) for c in listed["conversations"]]

    assert order == [
        ("sensitive", 1),
        ("failure", 2),
        ("frustrated", 3),
        ("request-1", 4),
        ("request-2", 5),
        ("misses", 6),
    ]


def test_position_is_counted_within_the_team(hand_off):
    hand_off("shipping-1", tags=["shipping"])
    billing = hand_off("billing-1", tags=["payments"])
    later_shipping = hand_off("shipping-2", tags=["shipping"])

    assert (billing["team"], billing["position"]) == ("billing", 1)
    assert (later_shipping["team"], later_shipping["position"]) == ("general", 2)


def test_expected_wait_defaults_to_two_minutes_per_place_without_history(hand_off):
    first = hand_off("conv-1")
    second = hand_off("conv-2")

    assert (first["expected_wait_s"], second["expected_wait_s"]) == (120, 240)


def test_expected_wait_is_the_median_of_recent_waits(hand_off, services):
    now = time.time()
    with services.db.engine.begin() as conn:
        for number, wait in enumerate((30, 60, 600)):
            conn.execute(
                conversations.insert().values(
                    sender_id=f"old-{number}",
                    channel="web",
                    reason="customer_request",
                    priority=2,
                    tags=[],
                    team="general",
                    state="resolved",
                    last_seq=0,
                    created_at=now - 3600,
                    assigned_at=now - 3600 + wait,
                )
            )

    waiting = hand_off("conv-1")

    assert waiting["expected_wait_s"] == 60


def test_a_more_urgent_handoff_pushes_the_new_position_to_those_behind(hand_off, rasa, services):
    hand_off("request", reason="customer_request")
    assert rasa.calls == []

    hand_off("sensitive", reason="sensitive_topic")

    # The handoff answers at once; the background delivers the update.
    assert rasa.calls == []
    services.outbox.deliver_due()
    assert rasa.calls == [
        ("request", "EXTERNAL_queue_update", {"queue_position": 2, "expected_wait_s": 240})
    ]


def test_claim_moves_the_queue_and_tells_every_waiting_customer(
    client, hand_off, agent_headers, rasa, services
):
    first = hand_off("conv-1")
    hand_off("conv-2")
    hand_off("conv-3")

    client.post(f"/api/conversations/{first['id']}/claim", headers=agent_headers("alice"))

    services.outbox.deliver_due()
    assert sorted(rasa.calls) == [
        (
            "conv-1",
            "EXTERNAL_agent_joined",
            {"agent_name": "Alice Archer", "handoff_id": first["id"]},
        ),
        ("conv-2", "EXTERNAL_queue_update", {"queue_position": 1, "expected_wait_s": 120}),
        ("conv-3", "EXTERNAL_queue_update", {"queue_position": 2, "expected_wait_s": 240}),
    ]


def test_handoff_reports_agents_on_duty(client, hand_off, agent_headers, services):
    assert hand_off("conv-1")["agents_online"] == 0

    client.get("/api/conversations", headers=agent_headers("alice"))
    assert hand_off("conv-2")["agents_online"] == 1

    # Two minutes without a request or a stream take the agent off duty.
    with services.db.engine.begin() as conn:
        conn.execute(agents.update().values(last_seen_at=time.time() - 121))
    assert hand_off("conv-3")["agents_online"] == 0


def test_outside_business_hours_nobody_is_online(
    client, agent_headers, packet, service, another_app
):
    # Open only on a weekday three days from today: closed now, whatever the date.
    other_day = WEEKDAYS[(datetime.now(UTC).weekday() + 3) % 7]
    closed_app = another_app(BUSINESS_HOURS=f"{other_day} 09:00-17:00", BUSINESS_TIMEZONE="UTC")
    client.get("/api/conversations", headers=agent_headers("alice"))

    response = closed_app.test_client().post("/api/handoffs", json=packet(), headers=service)

    assert response.status_code == 201
    assert (response.json["open"], response.json["agents_online"]) == (False, 0)
    closed_app.extensions["handoff"].db.engine.dispose()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"channel": "fax"}, "field 'channel' must be one of web, kiosk"),
        ({"channel": None}, "field 'channel' is required"),
        ({"sender_id": None}, "field 'sender_id' is required"),
        ({"sender_id": ""}, "field 'sender_id' must not be empty"),
        ({"sender_id": 42}, "field 'sender_id' must be a string"),
        (
            {"reason": "bored"},
            "field 'reason' must be one of sensitive_topic, bot_failure, frustration, "
            "customer_request, repeated_misses",
        ),
        ({"sentiment": "sad"}, "field 'sentiment' must be a number or null"),
        ({"sentiment": 3}, "field 'sentiment' must be between -1 and 1"),
        ({"tags": "refunds"}, "field 'tags' must be an array or null"),
        ({"customer": {"name": 7}}, "field 'customer.name' must be a string or null"),
        ({"transcript": [{"role": "bot"}]}, "field 'transcript[0].text' is required"),
        (
            {"transcript": [{"role": "agent", "text": "hi"}]},
            "field 'transcript[0].role' must be one of customer, bot",
        ),
    ],
)
def test_invalid_handoff_is_refused_naming_the_field(client, service, packet, change, message):
    response = client.post("/api/handoffs", json=packet(**change), headers=service)

    assert response.status_code == 400
    assert response.json == {"error": "bad_request", "message": message}


def test_handoff_body_that_is_not_json_is_refused(client, service):
    response = client.post(
        "/api/handoffs", data="conversation_id=1", headers=service, content_type="text/plain"
    )

    assert response.status_code == 400
    assert response.json == {
        "error": "bad_request",
        "message": "request body must be a JSON object",
    }


def test_handoff_needs_the_service_token(client, packet, agent_headers):
    assert client.post("/api/handoffs", json=packet()).status_code == 401
    wrong = {"Authorization": "Bearer not-the-token"}
    assert client.post("/api/handoffs", json=packet(), headers=wrong).status_code == 401
    # An agent's token is not the service token.
    assert (
        client.post("/api/handoffs", json=packet(), headers=agent_headers("ada")).status_code == 401
    )


def test_queue_positions_are_fresh_after_another_process_writes(
    client, hand_off, agent_headers, another_app
):
    first = hand_off("conv-1")
    hand_off("conv-2")
    alice = agent_headers("alice")
    path = "/api/conversations?state=queued"
    assert [c["position"] for c in client.get(path, headers=alice).json["conversations"]] == [1, 2]
    other = another_app()

    other.test_client().post(f"/api/conversations/{first['id']}/claim", headers=alice)
    other.extensions["handoff"].db.engine.dispose()

    listed = client.get(path, headers=alice).json["conversations"]
    detail = client.get(f"/api/conversations/{first['id']}", headers=alice).json
    assert [(c["sender_id"], c["position"]) for c in listed] == [("conv-2", 1)]
    assert (detail["state"], detail["position"]) == ("assigned", None)


def test_the_queue_list_is_built_once_per_change(client, hand_off, agent_headers, services):
    hand_off("conv-1")
    alice = agent_headers("alice")
    client.get("/api/conversations", headers=alice)
    reads = []

    def count(conn, cursor, statement, *args):
        if "FROM conversations" in statement:
            reads.append(statement)

    sa.event.listen(services.db.engine, "before_cursor_execute", count)
    try:
        for _ in range(3):
            client.get("/api/conversations", headers=alice)
        unchanged = len(reads)
        hand_off("conv-2")
        reads.clear()
        listed = client.get("/api/conversations", headers=alice).json["conversations"]
    finally:
        sa.event.remove(services.db.engine, "before_cursor_execute", count)

    assert unchanged == 0
    assert reads
    assert [c["sender_id"] for c in listed] == ["conv-1", "conv-2"]
