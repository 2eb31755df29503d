"""A conversation from handoff to rating, as the action server and an agent drive it."""

from __future__ import annotations

import sqlalchemy as sa

from handoff_server.db import conversations, messages, outbox, transitions


def test_handoff_to_rating(client, service, agent_headers, rasa, services, packet):
    alice = agent_headers("alice")

    handoff = client.post("/api/handoffs", json=packet("conv-1"), headers=service)
    assert handoff.status_code == 201
    created = handoff.json
    assert created["state"] == "queued"
    assert created["position"] == 1
    assert created["expected_wait_s"] == 120
    conversation_id = created["id"]

    listed = client.get("/api/conversations?state=queued", headers=alice).json["conversations"]
    assert [(c["id"], c["sender_id"], c["position"]) for c in listed] == [
        (conversation_id, "conv-1", 1)
    ]
    assert listed[0]["customer_name"] == "Maria Lopez"
    assert listed[0]["channel"] == "web"
    assert listed[0]["reason"] == "customer_request"
    assert listed[0]["assignee"] is None

    claimed = client.post(f"/api/conversations/{conversation_id}/claim", headers=alice)
    assert claimed.status_code == 200
    assert claimed.json["state"] == "assigned"
    assert claimed.json["position"] is None
    assert claimed.json["assignee"] == {"username": "alice", "name": "Alice Archer"}
    services.outbox.deliver_due()
    assert rasa.calls[-1] == (
        "conv-1",
        "EXTERNAL_agent_joined",
        {"agent_name": "Alice Archer", "handoff_id": conversation_id},
    )

    reply = client.post(
        f"/api/conversations/{conversation_id}/messages",
        json={"text": "Hi Maria, let me check your refund."},
        headers=alice,
    )
    assert reply.status_code == 201
    services.outbox.deliver_due()
    assert rasa.calls[-1] == (
        "conv-1",
        "EXTERNAL_agent_message",
        {"agent_message": "Hi Maria, let me check your refund.", "agent_name": "Alice Archer"},
    )

    answer = client.post(
        f"/api/conversations/{conversation_id}/customer-messages",
        json={"text": "thanks!", "idempotency_key": "m-1"},
        headers=service,
    )
    assert answer.status_code == 201
    assert answer.json["role"] == "customer"

    resolved = client.post(
        f"/api/conversations/{conversation_id}/resolve", json={"note": "refund sent"}, headers=alice
    )
    assert resolved.status_code == 200
    assert resolved.json["state"] == "resolved"
    services.outbox.deliver_due()
    assert rasa.calls[-1] == ("conv-1", "EXTERNAL_handoff_resolved", {"agent_name": "Alice Archer"})

    rating = client.post(
        f"/api/conversations/{conversation_id}/rating", json={"rating": 5}, headers=service
    )
    assert rating.status_code == 200
    assert rating.json["rating"] == 5

    detail = client.get(f"/api/conversations/{conversation_id}", headers=alice).json
    assert [(m["seq"], m["role"]) for m in detail["transcript"]] == [
        (1, "customer"),
        (2, "bot"),
        (3, "system"),
        (4, "agent"),
        (5, "customer"),
        (6, "system"),
    ]
    assert detail["transcript"][0]["faq_hits"] == [{"faq_id": "refund_timeline", "score": 0.82}]
    assert detail["transcript"][3]["agent"] == {"username": "alice", "name": "Alice Archer"}
    assert [note["text"] for note in detail["notes"]] == ["refund sent"]
    assert [(step["from"], step["to"], step["actor"]) for step in detail["history"]] == [
        ("bot", "queued", "bot"),
        ("queued", "assigned", "alice"),
        ("assigned", "resolved", "alice"),
    ]
    assert detail["customer"] == {
        "name": "Maria Lopez",
        "email": "maria@example.com",
        "phone": None,
    }
    assert detail["page_url"] == "https://shop.example/refunds"
    assert detail["rating"] == 5

    with services.db.read() as conn:
        row = conn.execute(sa.select(conversations)).one()
        assert (row.state, row.rating, row.last_seq) == ("resolved", 5, 6)
        assert conn.execute(sa.select(sa.func.count()).select_from(messages)).scalar() == 6
        assert conn.execute(sa.select(sa.func.count()).select_from(transitions)).scalar() == 3
        statuses = conn.execute(sa.select(outbox.c.intent, outbox.c.status)).all()
    assert sorted(statuses) == [
        ("EXTERNAL_agent_joined", "delivered"),
        ("EXTERNAL_agent_message", "delivered"),
        ("EXTERNAL_handoff_resolved", "delivered"),
    ]
    assert len(rasa.calls) == 3


def test_rasa_pushes_name_the_agent_who_acts(client, hand_off, agent_headers, rasa, services):
    conversation = hand_off("conv-2")
    client.post(f"/api/conversations/{conversation['id']}/claim", headers=agent_headers("bob"))
    services.outbox.deliver_due()

    assert rasa.intents("conv-2") == ["EXTERNAL_agent_joined"]
    assert rasa.calls[0][2] == {"agent_name": "Bob Baker", "handoff_id": conversation["id"]}


def test_a_second_handoff_after_resolve_opens_a_new_conversation(
    client, hand_off, agent_headers, service, packet
):
    alice = agent_headers("alice")
    first = hand_off("conv-3")
    client.post(f"/api/conversations/{first['id']}/claim", headers=alice)
    client.post(f"/api/conversations/{first['id']}/resolve", headers=alice)

    again = client.post("/api/handoffs", json=packet("conv-3"), headers=service)

    assert again.status_code == 201
    assert again.json["id"] != first["id"]
    assert again.json["state"] == "queued"
