"""Messages: sequence numbers, retries stored once, text kept exactly as sent, limits."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from handoff_server.db import messages


@pytest.fixture
def assigned(client, hand_off, agent_headers):
    """A conversation with its two-turn transcript, claimed by alice."""
    conversation = hand_off("conv-1")
    client.post(f"/api/conversations/{conversation['id']}/claim", headers=agent_headers("alice"))
    return conversation


def test_customer_and_agent_turns_share_one_sequence(client, assigned, service, agent_headers):
    path = f"/api/conversations/{assigned['id']}"
    alice = agent_headers("alice")

    first = client.post(f"{path}/customer-messages", json={"text": "hello?"}, headers=service)
    reply = client.post(f"{path}/messages", json={"text": "Hi, I'm here."}, headers=alice)
    second = client.post(f"{path}/customer-messages", json={"text": "great"}, headers=service)

    # 1-2 are the imported transcript, 3 is "Alice Archer joined."
    assert [first.json["seq"], reply.json["seq"], second.json["seq"]] == [4, 5, 6]
    transcript = client.get(path, headers=alice).json["transcript"]
    assert [turn["text"] for turn in transcript[2:]] == [
        "Alice Archer joined.",
        "hello?",
        "Hi, I'm here.",
        "great",
    ]


def test_customer_message_retry_is_stored_once(client, assigned, service, services):
    path = f"/api/conversations/{assigned['id']}/customer-messages"
    body = {"text": "my order is 1234", "idempotency_key": "rasa-event-17"}

    first = client.post(path, json=body, headers=service)
    retry = client.post(path, json=body, headers=service)

    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json == first.json
    with services.db.read() as conn:
        stored = conn.execute(
            sa.select(messages.c.seq).where(messages.c.idempotency_key == "rasa-event-17")
        ).all()
    assert stored == [(first.json["seq"],)]


def test_agent_message_retry_is_stored_and_pushed_once(
    client, assigned, agent_headers, rasa, services
):
    path = f"/api/conversations/{assigned['id']}/messages"
    body = {"text": "One moment please.", "idempotency_key": "console-1"}

    first = client.post(path, json=body, headers=agent_headers("alice"))
    retry = client.post(path, json=body, headers=agent_headers("alice"))
    services.outbox.deliver_due()

    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json["id"] == first.json["id"]
    assert rasa.intents("conv-1") == ["EXTERNAL_agent_joined", "EXTERNAL_agent_message"]


def test_messages_without_key_are_each_stored(client, assigned, service):
    path = f"/api/conversations/{assigned['id']}/customer-messages"

    first = client.post(path, json={"text": "ok"}, headers=service)
    second = client.post(path, json={"text": "ok"}, headers=service)

    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json["seq"] == first.json["seq"] + 1


def test_text_is_stored_exactly_as_sent(client, assigned, agent_headers, rasa, services):
    text = '<b>Refund</b> & "status" <script>alert(1)</script>\n  second line  '

    response = client.post(
        f"/api/conversations/{assigned['id']}/messages",
        json={"text": text},
        headers=agent_headers("alice"),
    )

    assert response.json["text"] == text
    services.outbox.deliver_due()
    assert rasa.calls[-1][2]["agent_message"] == text
    with services.db.read() as conn:
        assert conn.execute(sa.select(messages.c.text).where(messages.c.seq == 4)).scalar() == text


def test_text_of_4000_characters_is_accepted_and_longer_is_refused(
    client, assigned, service, agent_headers
):
    path = f"/api/conversations/{assigned['id']}"

    longest = client.post(f"{path}/customer-messages", json={"text": "x" * 4000}, headers=service)
    too_long = client.post(f"{path}/customer-messages", json={"text": "x" * 4001}, headers=service)
    long_note = client.post(
        f"{path}/notes", json={"text": "y" * 4001}, headers=agent_headers("alice")
    )

    assert longest.status_code == 201
    assert too_long.status_code == 413
    assert too_long.json == {
        "error": "request_entity_too_large",
        "message": "field 'text' is longer than 4000 characters",
    }
    assert long_note.status_code == 413


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "field 'text' is required"),
        ({"text": "   "}, "field 'text' must not be empty"),
        ({"text": ["hi"]}, "field 'text' must be a string"),
        ({"text": "hi", "idempotency_key": 5}, "field 'idempotency_key' must be a string or null"),
    ],
)
def test_invalid_message_is_refused_naming_the_field(client, assigned, service, body, message):
    response = client.post(
        f"/api/conversations/{assigned['id']}/customer-messages", json=body, headers=service
    )

    assert response.status_code == 400
    assert response.json == {"error": "bad_request", "message": message}


def test_message_to_unknown_conversation_is_404(client, service, agent_headers):
    customer = client.post(
        "/api/conversations/424242/customer-messages", json={"text": "hi"}, headers=service
    )
    agent = client.post(
        "/api/conversations/424242/messages", json={"text": "hi"}, headers=agent_headers("alice")
    )

    for response in (customer, agent):
        assert response.status_code == 404
        assert response.json == {"error": "not_found", "message": "conversation 424242 not found"}


def test_a_message_written_before_the_resolve_reached_the_customer_joins_the_transcript(
    client, assigned, service, agent_headers
):
    path = f"/api/conversations/{assigned['id']}"
    alice = agent_headers("alice")
    client.post(f"{path}/resolve", headers=alice)

    # Rasa forwards what the customer wrote while the agent still held the conversation.
    first = client.post(
        f"{path}/customer-messages", json={"text": "wait, one more"}, headers=service
    )
    second = client.post(f"{path}/customer-messages", json={"text": "the fee?"}, headers=service)

    assert (first.status_code, second.status_code) == (201, 201)
    transcript = client.get(path, headers=alice).json["transcript"]
    assert [(turn["text"], turn["late"]) for turn in transcript[-3:]] == [
        ("Resolved by Alice Archer.", False),
        ("wait, one more", True),
        ("the fee?", True),
    ]


def test_an_agent_reopens_a_conversation_and_the_customer_has_a_person_again(
    client, assigned, service, agent_headers, rasa, services
):
    path = f"/api/conversations/{assigned['id']}"
    bob = agent_headers("bob")
    client.post(f"{path}/resolve", headers=agent_headers("alice"))
    client.post(f"{path}/customer-messages", json={"text": "one more thing"}, headers=service)

    reopened = client.post(f"{path}/reopen", headers=bob)
    reply = client.post(f"{path}/messages", json={"text": "Yes?"}, headers=bob)
    services.outbox.deliver_due()

    assert reopened.status_code == 200
    assert (reopened.json["state"], reopened.json["assignee"]["username"]) == ("assigned", "bob")
    assert reply.status_code == 201
    assert rasa.calls[-2:] == [
        (
            "conv-1",
            "EXTERNAL_agent_joined",
            {"agent_name": "Bob Baker", "handoff_id": assigned["id"]},
        ),
        ("conv-1", "EXTERNAL_agent_message", {"agent_message": "Yes?", "agent_name": "Bob Baker"}),
    ]
    again = client.post(f"{path}/customer-messages", json={"text": "thanks"}, headers=service)
    assert again.json["late"] is False


def test_only_a_resolved_conversation_of_a_customer_without_a_newer_one_reopens(
    client, assigned, hand_off, service, agent_headers
):
    path = f"/api/conversations/{assigned['id']}"
    alice = agent_headers("alice")

    open_one = client.post(f"{path}/reopen", headers=alice)
    client.post(f"{path}/resolve", headers=alice)
    newer = hand_off("conv-1")
    superseded = client.post(f"{path}/reopen", headers=alice)

    assert open_one.status_code == 409
    assert superseded.status_code == 409
    assert superseded.json["message"] == (
        f"the customer of conversation {assigned['id']} is in conversation {newer['id']} now"
    )


def test_customer_messages_are_refused_once_the_customer_left(client, hand_off, service):
    waiting = hand_off("conv-7")
    path = f"/api/conversations/{waiting['id']}"
    client.post(f"{path}/abandon", headers=service)

    response = client.post(f"{path}/customer-messages", json={"text": "hi"}, headers=service)

    assert response.status_code == 409
    assert response.json["error"] == "conflict"


def test_customer_can_write_while_waiting(client, hand_off, service, agent_headers):
    waiting = hand_off("conv-9")

    response = client.post(
        f"/api/conversations/{waiting['id']}/customer-messages",
        json={"text": "still there?"},
        headers=service,
    )

    assert response.status_code == 201
    assert response.json["seq"] == 3
