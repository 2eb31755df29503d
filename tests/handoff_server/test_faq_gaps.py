"""Questions the bot could not answer, recorded for the FAQ gaps report."""

from __future__ import annotations

QUESTION = {
    "sender_id": "conv-9",
    "channel": "kiosk",
    "text": "is there a <b>sauna</b> on board?",
    "outcome": "none",
}


def test_a_question_nobody_answered_is_kept_for_supervisors(client, service, agent_headers):
    first = client.post("/api/unanswered-questions", json=QUESTION, headers=service)
    second = client.post(
        "/api/unanswered-questions",
        json={
            **QUESTION,
            "channel": "web",
            "text": "can i bring my drone",
            "outcome": "rejected",
            "suggestions": ["pets_on_board", "luggage_allowance"],
        },
        headers=service,
    )
    assert (first.status_code, second.status_code) == (201, 201)

    listed = client.get("/api/unanswered-questions", headers=agent_headers("sue")).json
    assert [question["text"] for question in listed["questions"]] == [
        "can i bring my drone",
        "is there a <b>sauna</b> on board?",  # stored as sent
    ]
    assert listed["questions"][0]["suggestions"] == ["pets_on_board", "luggage_allowance"]
    kiosk = client.get(
        "/api/unanswered-questions?channel=kiosk", headers=agent_headers("sue")
    ).json["questions"]
    assert [question["sender_id"] for question in kiosk] == ["conv-9"]


def test_the_gaps_are_for_supervisors_and_only_the_bot_records_them(client, agent_headers):
    assert client.get("/api/unanswered-questions").status_code == 401
    assert (
        client.get("/api/unanswered-questions", headers=agent_headers("alice")).status_code == 403
    )
    posted = client.post("/api/unanswered-questions", json=QUESTION, headers=agent_headers("sue"))
    assert posted.status_code == 401


def test_a_bad_record_is_refused_naming_the_field(client, service):
    response = client.post(
        "/api/unanswered-questions", json={**QUESTION, "outcome": "maybe"}, headers=service
    )
    assert response.status_code == 400
    assert "outcome" in response.json["message"]
