"""Canned responses: supervisors keep them, every agent reads them, the consoles hear changes."""

from __future__ import annotations

from handoff_server.event_log import events_after, last_event_id

PATH = "/api/canned-responses"
GREETING = {"shortcut": "hello", "text": "Hello {customer_name}, {agent_name} here."}


def test_a_supervisor_creates_edits_and_deletes_what_agents_read(client, agent_headers, services):
    sue, alice = agent_headers("sue"), agent_headers("alice")
    seen = last_event_id(services.db)

    created = client.post(PATH, json=GREETING, headers=sue)
    assert created.status_code == 201
    canned_id = created.json["id"]
    assert created.json["updated_by"] == "sue"
    listed = client.get(PATH, headers=alice).json["canned_responses"]
    assert [(c["shortcut"], c["text"]) for c in listed] == [("hello", GREETING["text"])]

    edited = client.post(
        f"{PATH}/{canned_id}", json={"shortcut": "hi", "text": "Hi {customer_name}!"}, headers=sue
    )
    assert edited.status_code == 200
    assert [c["shortcut"] for c in client.get(PATH, headers=alice).json["canned_responses"]] == [
        "hi"
    ]

    assert client.post(f"{PATH}/{canned_id}/delete", headers=sue).json["shortcut"] == "hi"
    assert client.get(PATH, headers=alice).json["canned_responses"] == []
    # Each change tells the open consoles to read the list again.
    kinds = [event["kind"] for event in events_after(services.db, seen)]
    assert kinds == ["canned_response"] * 3


def test_agents_cannot_change_them(client, agent_headers):
    response = client.post(PATH, json=GREETING, headers=agent_headers("alice"))

    assert response.status_code == 403


def test_a_shortcut_is_taken_once(client, agent_headers):
    sue = agent_headers("sue")
    client.post(PATH, json=GREETING, headers=sue)
    other = client.post(PATH, json={"shortcut": "bye", "text": "Goodbye!"}, headers=sue).json

    again = client.post(PATH, json={**GREETING, "text": "Hi"}, headers=sue)
    renamed = client.post(f"{PATH}/{other['id']}", json=GREETING, headers=sue)

    assert again.status_code == renamed.status_code == 409
    assert "'/hello' is taken" in again.json["message"]


def test_bad_shortcuts_and_unknown_ids_are_refused(client, agent_headers):
    sue = agent_headers("sue")

    spaced = client.post(PATH, json={"shortcut": "two words", "text": "x"}, headers=sue)
    blank = client.post(PATH, json={"shortcut": "ok", "text": "  "}, headers=sue)
    missing = client.post(f"{PATH}/4242", json=GREETING, headers=sue)
    gone = client.post(f"{PATH}/4242/delete", headers=sue)

    assert spaced.status_code == blank.status_code == 400
    assert spaced.json["message"].startswith("field 'shortcut' must match")
    assert blank.json["message"] == "field 'text' must not be empty"
    assert missing.status_code == gone.status_code == 404
    assert gone.json["message"] == "canned response 4242 not found"
