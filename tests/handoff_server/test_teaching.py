"""Supervisors teach unanswered questions to FAQs; action servers read what was taught."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest
from flask.testing import FlaskClient

from handoff_server import event_log, faq_gaps

FIXTURE_KB = Path(__file__).resolve().parents[1] / "faq" / "kb"


@pytest.fixture
def client(another_app: Callable[..., Any]) -> FlaskClient:
    """A test client of an app whose knowledge base is the small fixture KB."""
    return another_app(FAQ_DATA_DIR=str(FIXTURE_KB)).test_client()  # type: ignore[no-any-return]


@pytest.fixture
def ask(client: FlaskClient, service: dict[str, str]) -> Callable[..., dict[str, Any]]:
    """Record an unanswered question as the action server does, and return it."""

    def post(text: str, **changes: Any) -> dict[str, Any]:
        body = {"sender_id": "conv-1", "channel": "web", "text": text, "outcome": "none"}
        response = client.post(
            "/api/unanswered-questions", json={**body, **changes}, headers=service
        )
        assert response.status_code == 201, response.json
        return cast(dict[str, Any], response.json)

    return post


def test_supervisors_pick_from_the_knowledge_base_s_faqs(client, agent_headers):
    faqs = client.get("/api/faqs", headers=agent_headers("sue")).json["faqs"]

    by_id = {faq["id"]: faq for faq in faqs}
    assert by_id["wifi"] == {
        "id": "wifi",
        "question": "Is there wifi on board the ship?",
        "channels": ["web", "kiosk"],
    }
    assert by_id["payment_methods"]["channels"] == ["web"]
    assert [faq["question"] for faq in faqs] == sorted(
        (faq["question"] for faq in faqs), key=str.casefold
    )


def test_teaching_stores_the_paraphrase_and_closes_the_question(
    client, ask, agent_headers, service
):
    question = ask("is the money back yet")
    other = ask("is there a sauna", channel="kiosk")

    response = client.post(
        f"/api/unanswered-questions/{question['id']}/teach",
        json={"faq_id": "refund_timeline"},
        headers=agent_headers("sue"),
    )

    assert response.status_code == 201
    paraphrase = response.json
    assert paraphrase["faq_id"] == "refund_timeline"
    assert paraphrase["text"] == "is the money back yet"
    assert paraphrase["question_id"] == question["id"]
    assert paraphrase["taught_by"] == "sue"
    listed = client.get("/api/unanswered-questions", headers=agent_headers("sue")).json
    assert [item["id"] for item in listed["questions"]] == [other["id"]]
    taught = client.get(
        "/api/unanswered-questions?status=taught", headers=agent_headers("sue")
    ).json["questions"]
    assert [(item["id"], item["status"]) for item in taught] == [(question["id"], "taught")]
    feed = client.get("/api/faq-paraphrases", headers=service).json["paraphrases"]
    assert feed == [paraphrase]


def test_dismissing_closes_a_question_without_teaching_anything(
    client, ask, agent_headers, service
):
    question = ask("what's your favourite colour")

    response = client.post(
        f"/api/unanswered-questions/{question['id']}/dismiss", headers=agent_headers("sue")
    )

    assert response.status_code == 200
    assert response.json["status"] == "dismissed"
    assert client.get("/api/unanswered-questions", headers=agent_headers("sue")).json == {
        "questions": []
    }
    assert client.get("/api/faq-paraphrases", headers=service).json == {"paraphrases": []}


def test_a_handled_question_cannot_be_taught_or_dismissed_again(client, ask, agent_headers):
    question = ask("is the money back yet")
    teach = f"/api/unanswered-questions/{question['id']}/teach"
    taught = client.post(teach, json={"faq_id": "refund_timeline"}, headers=agent_headers("sue"))
    assert taught.status_code == 201

    again = client.post(teach, json={"faq_id": "cancel_booking"}, headers=agent_headers("sue"))
    dismissed = client.post(
        f"/api/unanswered-questions/{question['id']}/dismiss", headers=agent_headers("sue")
    )

    assert again.status_code == 409
    assert again.json == {
        "error": "conflict",
        "message": (
            f"question {question['id']} is already taught; only open questions can be taught"
        ),
    }
    assert dismissed.status_code == 409
    assert "already taught" in dismissed.json["message"]


def test_a_text_of_another_faq_is_refused_naming_that_faq(client, ask, agent_headers):
    known = ask("Does the boat have WiFi?")
    first = ask("any hotspot here")
    repeated = ask("Any hotspot here?")
    headers = agent_headers("sue")
    client.post(
        f"/api/unanswered-questions/{first['id']}/teach", json={"faq_id": "wifi"}, headers=headers
    )

    in_the_data = client.post(
        f"/api/unanswered-questions/{known['id']}/teach",
        json={"faq_id": "dinner_times"},
        headers=headers,
    )
    taught_before = client.post(
        f"/api/unanswered-questions/{repeated['id']}/teach",
        json={"faq_id": "dinner_times"},
        headers=headers,
    )

    assert in_the_data.status_code == 409
    assert in_the_data.json["message"] == (
        "'Does the boat have WiFi?' is already a question or paraphrase of FAQ 'wifi' "
        "(Is there wifi on board the ship?)"
    )
    assert taught_before.status_code == 409
    assert "already taught to FAQ 'wifi'" in taught_before.json["message"]
    still_open = client.get("/api/unanswered-questions", headers=headers).json["questions"]
    assert {item["id"] for item in still_open} == {known["id"], repeated["id"]}


def test_the_same_text_taught_to_the_same_faq_is_stored_once(client, ask, agent_headers, service):
    first, repeated = ask("any hotspot here"), ask("ANY hotspot here")
    headers = agent_headers("sue")

    created = client.post(
        f"/api/unanswered-questions/{first['id']}/teach", json={"faq_id": "wifi"}, headers=headers
    )
    again = client.post(
        f"/api/unanswered-questions/{repeated['id']}/teach",
        json={"faq_id": "wifi"},
        headers=headers,
    )

    assert (created.status_code, again.status_code) == (201, 200)
    assert again.json == created.json
    assert client.get("/api/faq-paraphrases", headers=service).json["paraphrases"] == [created.json]
    assert client.get("/api/unanswered-questions", headers=headers).json["questions"] == []


def test_unknown_questions_and_faqs_are_named(client, ask, agent_headers):
    question = ask("is the money back yet")
    headers = agent_headers("sue")

    unknown_question = client.post(
        "/api/unanswered-questions/999999/teach", json={"faq_id": "wifi"}, headers=headers
    )
    unknown_faq = client.post(
        f"/api/unanswered-questions/{question['id']}/teach",
        json={"faq_id": "sauna"},
        headers=headers,
    )
    no_faq = client.post(
        f"/api/unanswered-questions/{question['id']}/teach", json={}, headers=headers
    )
    dismiss_unknown = client.post("/api/unanswered-questions/999999/dismiss", headers=headers)

    assert unknown_question.status_code == 404
    assert unknown_question.json["message"] == "unanswered question 999999 not found"
    assert unknown_faq.status_code == 422
    assert unknown_faq.json == {
        "error": "unprocessable_entity",
        "message": "no FAQ with id 'sauna'",
    }
    assert no_faq.status_code == 400 and "faq_id" in no_faq.json["message"]
    wordless = ask("?!")
    refused = client.post(
        f"/api/unanswered-questions/{wordless['id']}/teach",
        json={"faq_id": "wifi"},
        headers=headers,
    )
    assert refused.status_code == 422
    assert refused.json["message"] == f"question {wordless['id']} has no words to teach"
    assert dismiss_unknown.status_code == 404


def test_teaching_is_for_supervisors_and_the_feed_for_the_action_server(
    client, ask, agent_headers, service
):
    question = ask("is the money back yet")
    teach = f"/api/unanswered-questions/{question['id']}/teach"
    dismiss = f"/api/unanswered-questions/{question['id']}/dismiss"

    assert client.get("/api/faqs").status_code == 401
    assert client.post(teach, json={"faq_id": "wifi"}).status_code == 401
    assert client.post(dismiss).status_code == 401
    assert client.get("/api/faqs", headers=agent_headers("alice")).status_code == 403
    refused = client.post(teach, json={"faq_id": "wifi"}, headers=agent_headers("alice"))
    assert refused.status_code == 403
    assert "supervisor" in refused.json["message"]
    assert client.post(dismiss, headers=agent_headers("alice")).status_code == 403
    assert (
        client.post(teach, json={"faq_id": "wifi"}, headers=agent_headers("ada")).status_code == 201
    )
    assert client.get("/api/faq-paraphrases").status_code == 401
    assert client.get("/api/faq-paraphrases", headers=agent_headers("sue")).status_code == 401
    assert client.get("/api/faq-paraphrases", headers=service).status_code == 200


def test_action_servers_page_through_paraphrases_with_a_cursor(client, ask, agent_headers, service):
    headers = agent_headers("sue")
    texts = ["money back when", "refund arrived yet", "where is my refund money"]
    for text in texts:
        question = ask(text)
        client.post(
            f"/api/unanswered-questions/{question['id']}/teach",
            json={"faq_id": "refund_timeline"},
            headers=headers,
        )

    first_page = client.get("/api/faq-paraphrases?limit=2", headers=service).json["paraphrases"]
    cursor = first_page[-1]["id"]
    rest = client.get(f"/api/faq-paraphrases?after={cursor}", headers=service).json["paraphrases"]
    caught_up = client.get(f"/api/faq-paraphrases?after={rest[-1]['id']}", headers=service).json[
        "paraphrases"
    ]

    assert [item["text"] for item in first_page + rest] == texts
    assert first_page[0]["id"] < first_page[1]["id"] < rest[0]["id"]
    assert caught_up == []
    bad = client.get("/api/faq-paraphrases?after=-1", headers=service)
    assert bad.status_code == 400 and "after" in bad.json["message"]


def test_recording_and_closing_questions_reach_the_console_stream(
    client, ask, agent_headers, services
):
    question = ask("is the money back yet")
    client.post(f"/api/unanswered-questions/{question['id']}/dismiss", headers=agent_headers("sue"))

    kinds = [
        (event["kind"], event["payload"]) for event in event_log.events_after(services.db, 0, None)
    ]
    assert kinds == [
        (faq_gaps.EVENT_KIND, {"id": question["id"], "status": "open"}),
        (faq_gaps.EVENT_KIND, {"id": question["id"], "status": "dismissed"}),
    ]


def test_openapi_describes_teaching(client):
    paths = client.get("/api/openapi.json").json["paths"]

    teach = paths["/api/unanswered-questions/{question_id}/teach"]["post"]
    assert teach["x-required-role"] == "supervisor"
    assert teach["requestBody"]["content"]["application/json"]["schema"]["required"] == ["faq_id"]
    feed = paths["/api/faq-paraphrases"]["get"]
    assert feed["security"] == [{"serviceToken": []}]
    assert {parameter["name"] for parameter in feed["parameters"]} == {"after", "limit"}
