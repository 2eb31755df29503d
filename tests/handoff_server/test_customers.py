"""The customer card's earlier conversations: same session or same contact, newest first."""

from __future__ import annotations


def resolve(client, agent_headers, conversation):
    alice = agent_headers("alice")
    client.post(f"/api/conversations/{conversation['id']}/claim", headers=alice)
    client.post(f"/api/conversations/{conversation['id']}/resolve", headers=alice)


def test_earlier_conversations_of_the_same_session_and_the_same_contact(
    client, hand_off, agent_headers
):
    first = hand_off("widget-1")
    resolve(client, agent_headers, first)
    same_session = hand_off("widget-1", customer=None)
    resolve(client, agent_headers, same_session)
    same_email = hand_off("kiosk-7", channel="kiosk")  # Maria gave the same email at a kiosk
    resolve(client, agent_headers, same_email)
    stranger = hand_off(
        "widget-2", customer={"name": "Jo", "email": "jo@example.com", "phone": None}
    )
    now = hand_off("widget-1")

    response = client.get(f"/api/conversations/{now['id']}/earlier", headers=agent_headers("bob"))
    assert response.status_code == 200
    earlier = response.json["conversations"]
    assert [(item["id"], item["match"]) for item in earlier] == [
        (same_email["id"], "contact"),
        (same_session["id"], "session"),
        (first["id"], "session"),
    ]
    assert stranger["id"] not in [item["id"] for item in earlier]
    assert earlier[0]["state"] == "resolved"


def test_earlier_conversations_refuse_unknown_ids_and_strangers(client, hand_off, agent_headers):
    conversation = hand_off()
    path = f"/api/conversations/{conversation['id']}/earlier"
    assert client.get(path).status_code == 401
    assert client.get(path, headers=agent_headers("alice")).json == {"conversations": []}
    missing = client.get("/api/conversations/999999/earlier", headers=agent_headers("alice"))
    assert missing.status_code == 404
    assert "999999" in missing.json["message"]
