"""What agents do with a conversation: claim, write, note, transfer, resolve; and who may."""

from __future__ import annotations

import sqlalchemy as sa

from handoff_server.db import conversations, transitions
from handoff_server.event_log import events_after, last_event_id


def _claim(client, conversation, headers):
    return client.post(f"/api/conversations/{conversation['id']}/claim", headers=headers)


def test_claiming_a_claimed_conversation_is_a_conflict(client, hand_off, agent_headers):
    conversation = hand_off()
    assert _claim(client, conversation, agent_headers("alice")).status_code == 200

    second = _claim(client, conversation, agent_headers("bob"))

    assert second.status_code == 409
    assert second.json == {
        "error": "conflict",
        "message": f"conversation {conversation['id']} is already assigned to alice",
    }


def test_claiming_an_unknown_conversation_is_404(client, agent_headers):
    response = client.post("/api/conversations/987654/claim", headers=agent_headers("alice"))

    assert response.status_code == 404
    assert response.json == {"error": "not_found", "message": "conversation 987654 not found"}


def test_agent_must_claim_before_writing(client, hand_off, agent_headers, rasa):
    conversation = hand_off()

    response = client.post(
        f"/api/conversations/{conversation['id']}/messages",
        json={"text": "hello"},
        headers=agent_headers("alice"),
    )

    assert response.status_code == 409
    assert rasa.calls == []


def test_only_the_assignee_or_a_supervisor_writes_and_resolves(client, hand_off, agent_headers):
    conversation = hand_off()
    path = f"/api/conversations/{conversation['id']}"
    _claim(client, conversation, agent_headers("alice"))

    bob_writes = client.post(f"{path}/messages", json={"text": "hi"}, headers=agent_headers("bob"))
    bob_resolves = client.post(f"{path}/resolve", headers=agent_headers("bob"))
    sue_writes = client.post(f"{path}/messages", json={"text": "hi"}, headers=agent_headers("sue"))
    sue_resolves = client.post(f"{path}/resolve", headers=agent_headers("sue"))

    assert (bob_writes.status_code, bob_resolves.status_code) == (403, 403)
    assert bob_writes.json["error"] == "forbidden"
    assert (sue_writes.status_code, sue_resolves.status_code) == (201, 200)
    assert sue_writes.json["agent"]["username"] == "sue"


def test_resolve_hands_the_conversation_back_to_the_bot(
    client, hand_off, agent_headers, rasa, services
):
    conversation = hand_off()
    alice = agent_headers("alice")
    _claim(client, conversation, alice)

    response = client.post(f"/api/conversations/{conversation['id']}/resolve", headers=alice)
    again = client.post(f"/api/conversations/{conversation['id']}/resolve", headers=alice)

    assert response.json["state"] == "resolved"
    assert again.status_code == 409
    services.outbox.deliver_due()
    assert rasa.intents("conv-1") == ["EXTERNAL_agent_joined", "EXTERNAL_handoff_resolved"]
    with services.db.read() as conn:
        assert conn.execute(sa.select(conversations.c.closed_at)).scalar() is not None


def test_notes_are_kept_and_never_sent_to_the_customer(client, hand_off, agent_headers, rasa):
    conversation = hand_off()
    path = f"/api/conversations/{conversation['id']}"

    note = client.post(f"{path}/notes", json={"text": "VIP customer"}, headers=agent_headers("bob"))

    assert note.status_code == 201
    assert note.json["agent"] == {"username": "bob", "name": "Bob Baker"}
    detail = client.get(path, headers=agent_headers("alice")).json
    assert [n["text"] for n in detail["notes"]] == ["VIP customer"]
    assert all(turn["text"] != "VIP customer" for turn in detail["transcript"])
    assert rasa.calls == []


def test_transfer_to_an_agent_reassigns_and_introduces_them(
    client, hand_off, agent_headers, rasa, services
):
    conversation = hand_off()
    _claim(client, conversation, agent_headers("alice"))

    response = client.post(
        f"/api/conversations/{conversation['id']}/transfer",
        json={"agent": "bob"},
        headers=agent_headers("alice"),
    )

    assert response.status_code == 200
    assert response.json["assignee"] == {"username": "bob", "name": "Bob Baker"}
    services.outbox.deliver_due()
    assert rasa.calls[-1] == (
        "conv-1",
        "EXTERNAL_agent_joined",
        {"agent_name": "Bob Baker", "handoff_id": conversation["id"]},
    )
    # Bob now owns it; Alice no longer does.
    path = f"/api/conversations/{conversation['id']}/messages"
    assert client.post(path, json={"text": "hi"}, headers=agent_headers("bob")).status_code == 201
    assert client.post(path, json={"text": "hi"}, headers=agent_headers("alice")).status_code == 403


def test_transfer_to_a_team_requeues_and_tells_the_customer_their_place(
    client, hand_off, agent_headers, rasa, services
):
    conversation = hand_off("conv-1")
    hand_off("billing-waiting", tags=["refunds"])
    _claim(client, conversation, agent_headers("alice"))

    response = client.post(
        f"/api/conversations/{conversation['id']}/transfer",
        json={"team": "billing"},
        headers=agent_headers("alice"),
    )

    assert response.status_code == 200
    assert (response.json["state"], response.json["team"]) == ("queued", "billing")
    assert response.json["assignee"] is None
    # Handed off earlier than the one already waiting for billing, so it goes first.
    assert response.json["position"] == 1
    # Its own customer hears their new place, and so does the one it overtook.
    services.outbox.deliver_due()
    assert sorted(rasa.calls[-2:]) == [
        ("billing-waiting", "EXTERNAL_queue_update", {"queue_position": 2, "expected_wait_s": 240}),
        ("conv-1", "EXTERNAL_queue_update", {"queue_position": 1, "expected_wait_s": 120}),
    ]
    with services.db.read() as conn:
        steps = conn.execute(
            sa.select(transitions.c.from_state, transitions.c.to_state)
            .where(transitions.c.conversation_id == conversation["id"])
            .order_by(transitions.c.id)
        ).all()
    assert steps == [("bot", "queued"), ("queued", "assigned"), ("assigned", "queued")]


def test_transfer_is_validated(client, hand_off, agent_headers):
    conversation = hand_off()
    path = f"/api/conversations/{conversation['id']}/transfer"
    alice = agent_headers("alice")

    neither = client.post(path, json={}, headers=alice)
    both = client.post(path, json={"agent": "bob", "team": "billing"}, headers=alice)
    unknown_team = client.post(path, json={"team": "marketing"}, headers=alice)
    unknown_agent = client.post(path, json={"agent": "nobody"}, headers=alice)

    assert neither.json["message"] == "give exactly one of field 'agent' or field 'team'"
    assert both.status_code == 400
    assert unknown_team.json["message"] == "field 'team' must be one of billing, general"
    assert unknown_agent.json["message"] == "field 'agent' must name an agent; there is no 'nobody'"
    assert all(r.status_code == 400 for r in (neither, both, unknown_team, unknown_agent))


def test_customer_leaving_abandons_and_moves_the_queue(client, hand_off, service, rasa, services):
    first = hand_off("conv-1")
    hand_off("conv-2")

    response = client.post(f"/api/conversations/{first['id']}/abandon", headers=service)

    assert response.json["state"] == "abandoned"
    services.outbox.deliver_due()
    assert rasa.calls == [
        ("conv-2", "EXTERNAL_queue_update", {"queue_position": 1, "expected_wait_s": 120})
    ]


def test_offline_message_becomes_a_ticket(client, hand_off, service, agent_headers):
    conversation = hand_off()
    path = f"/api/conversations/{conversation['id']}"

    response = client.post(
        f"{path}/offline-message",
        json={"contact": "maria@example.com", "text": "Please call me back about my refund."},
        headers=service,
    )

    assert response.status_code == 200
    assert response.json["state"] == "offline"
    alice = agent_headers("alice")
    tickets = client.get("/api/conversations?state=offline", headers=alice).json["conversations"]
    assert [ticket["id"] for ticket in tickets] == [conversation["id"]]
    detail = client.get(path, headers=alice).json
    assert detail["contact"] == "maria@example.com"
    assert detail["transcript"][-1]["text"] == "Please call me back about my refund."
    assert client.get("/api/conversations?state=queued", headers=alice).json["conversations"] == []
    # The ticket is closed by an agent once answered.
    assert client.post(f"{path}/resolve", headers=alice).json["state"] == "resolved"


def test_rating_is_only_taken_after_resolve_and_between_1_and_5(
    client, hand_off, service, agent_headers
):
    conversation = hand_off()
    path = f"/api/conversations/{conversation['id']}"

    early = client.post(f"{path}/rating", json={"rating": 4}, headers=service)
    _claim(client, conversation, agent_headers("alice"))
    client.post(f"{path}/resolve", headers=agent_headers("alice"))
    too_high = client.post(f"{path}/rating", json={"rating": 6}, headers=service)
    not_integer = client.post(f"{path}/rating", json={"rating": 4.5}, headers=service)
    rated = client.post(f"{path}/rating", json={"rating": 4}, headers=service)

    assert early.status_code == 409
    assert too_high.json["message"] == "field 'rating' must be between 1 and 5"
    assert not_integer.json["message"] == "field 'rating' must be an integer"
    assert rated.json["rating"] == 4


def test_lists_filter_by_state_and_team(client, hand_off, agent_headers):
    alice = agent_headers("alice")
    billing = hand_off("conv-1", tags=["refunds"])
    general = hand_off("conv-2")
    _claim(client, general, alice)

    def listed(query):
        body = client.get(f"/api/conversations{query}", headers=alice).json
        return [c["id"] for c in body["conversations"]]

    assert listed("") == [billing["id"], general["id"]]
    assert listed("?state=assigned") == [general["id"]]
    assert listed("?state=queued&team=billing") == [billing["id"]]
    assert listed("?state=resolved") == []
    bad = client.get("/api/conversations?state=closed", headers=alice)
    assert bad.status_code == 400
    assert bad.json["message"] == (
        "field 'state' must be one of queued, assigned, resolved, abandoned, offline"
    )
    assert client.get("/api/conversations?limit=0", headers=alice).status_code == 400


def test_agents_list_shows_who_is_on_duty(client, agent_headers):
    client.get("/api/conversations", headers=agent_headers("bob"))

    listed = client.get("/api/agents", headers=agent_headers("alice")).json["agents"]

    on_duty = {agent["username"]: agent["on_duty"] for agent in listed}
    assert on_duty == {"ada": False, "alice": True, "bob": True, "sue": False}


def test_a_transfer_carries_a_note_shows_in_the_history_and_tells_the_receiver(
    client, hand_off, agent_headers, services
):
    conversation = hand_off()
    _claim(client, conversation, agent_headers("alice"))
    path = f"/api/conversations/{conversation['id']}"
    seen = last_event_id(services.db)

    response = client.post(
        f"{path}/transfer",
        json={"agent": "bob", "note": "Wants a refund for the spa booking"},
        headers=agent_headers("alice"),
    )

    assert response.status_code == 200
    detail = client.get(path, headers=agent_headers("bob")).json
    assert [note["text"] for note in detail["notes"]] == ["Wants a refund for the spa booking"]
    assert detail["history"][-1] | {"at": None} == {
        "from": "assigned",
        "to": "assigned",
        "actor": "alice",
        "detail": "transferred to Bob Baker",
        "at": None,
    }
    (transfer,) = [e for e in events_after(services.db, seen) if e["kind"] == "transfer"]
    assert transfer["payload"] | {"at": None} == {
        "conversation": conversation["id"],
        "by": {"username": "alice", "name": "Alice Archer"},
        "agent": "bob",
        "team": None,
        "note": "Wants a refund for the spa booking",
        "at": None,
    }


def test_the_teams_to_transfer_to_are_listed(client, agent_headers, services):
    response = client.get("/api/teams", headers=agent_headers("alice"))

    assert response.json == {"teams": services.settings.teams}
    assert "billing" in response.json["teams"]
