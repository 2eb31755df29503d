"""Unanswered questions grouped by the engine's embeddings; a group taught at once or drafted."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest
import yaml
from flask.testing import FlaskClient

FIXTURE_KB = Path(__file__).resolve().parents[1] / "faq" / "kb"
# Stand-ins for the engine's vectors: the sauna questions point one way, the drone another.
SAUNA = [100, 60, 0, 0]
SAUNA_AGAIN = [90, 70, 10, 0]
DRONE = [0, 0, 110, 50]


@pytest.fixture
def client(another_app: Callable[..., Any]) -> FlaskClient:
    """A test client of an app whose knowledge base is the small fixture KB."""
    return another_app(FAQ_DATA_DIR=str(FIXTURE_KB)).test_client()  # type: ignore[no-any-return]


@pytest.fixture
def ask(client: FlaskClient, service: dict[str, str]) -> Callable[..., dict[str, Any]]:
    """Record an unanswered question as the action server does, with an embedding."""

    def post(text: str, embedding: list[int] | None) -> dict[str, Any]:
        body = {"sender_id": "conv-1", "channel": "web", "text": text, "outcome": "none"}
        response = client.post(
            "/api/unanswered-questions", json={**body, "embedding": embedding}, headers=service
        )
        assert response.status_code == 201, response.json
        return cast(dict[str, Any], response.json)

    return post


def test_alike_questions_form_one_group_and_the_same_words_one_entry(client, ask, agent_headers):
    first = ask("is there a sauna on board", SAUNA)
    again = ask("Is there a sauna on board?", SAUNA)
    reworded = ask("do you have a sauna", SAUNA_AGAIN)
    drone = ask("can i bring my drone", DRONE)
    alone = ask("what about the thing", None)

    groups = client.get("/api/unanswered-questions/groups", headers=agent_headers("sue")).json
    assert groups["groups"] == [
        {
            "label": "Is there a sauna on board?",
            "size": 3,
            "questions": [
                {
                    "text": "Is there a sauna on board?",
                    "ids": [again["id"], first["id"]],
                    "count": 2,
                },
                {"text": "do you have a sauna", "ids": [reworded["id"]], "count": 1},
            ],
        },
        {
            "label": "what about the thing",
            "size": 1,
            "questions": [{"text": "what about the thing", "ids": [alone["id"]], "count": 1}],
        },
        {
            "label": "can i bring my drone",
            "size": 1,
            "questions": [{"text": "can i bring my drone", "ids": [drone["id"]], "count": 1}],
        },
    ]


def test_a_group_is_taught_to_one_faq_in_one_step(client, ask, agent_headers, service):
    ids = [
        ask(text, SAUNA)["id"]
        for text in ("gym opening", "fitness room open now", "gym open today")
    ]
    response = client.post(
        "/api/unanswered-questions/teach-group",
        json={"question_ids": ids, "faq_id": "gym_hours"},
        headers=agent_headers("sue"),
    )
    assert response.status_code == 200
    assert sorted(item["text"] for item in response.json["taught"]) == sorted(
        ["gym opening", "fitness room open now", "gym open today"]
    )
    assert response.json["refused"] == []
    assert client.get("/api/unanswered-questions/groups", headers=agent_headers("sue")).json == {
        "groups": []
    }
    learned = client.get("/api/faq-paraphrases", headers=service).json["paraphrases"]
    assert {item["faq_id"] for item in learned} == {"gym_hours"}


def test_a_question_of_the_group_another_faq_owns_is_refused_and_the_rest_taught(
    client, ask, agent_headers
):
    wifi = ask("Is there wifi on board the ship?", SAUNA)  # the wifi FAQ's own question
    gym = ask("gym opening", SAUNA)
    response = client.post(
        "/api/unanswered-questions/teach-group",
        json={"question_ids": [wifi["id"], gym["id"]], "faq_id": "gym_hours"},
        headers=agent_headers("sue"),
    )
    assert [item["text"] for item in response.json["taught"]] == ["gym opening"]
    assert [item["id"] for item in response.json["refused"]] == [wifi["id"]]
    assert "wifi" in response.json["refused"][0]["message"]


def test_a_new_faq_is_drafted_from_a_group(client, ask, agent_headers):
    ids = [
        ask(text, SAUNA)["id"]
        for text in ("is there a sauna", "Is there a sauna?", "do you have a sauna")
    ]
    response = client.post(
        "/api/unanswered-questions/faq-draft",
        json={"question_ids": ids},
        headers=agent_headers("sue"),
    )
    assert response.status_code == 200
    (faq,) = yaml.safe_load(response.json["yaml"])["faqs"]
    assert faq == {
        "id": "is_there_a_sauna",
        "question": "is there a sauna",
        "paraphrases": ["do you have a sauna"],
        "answer": "Write the answer here.",
    }


def test_groups_refuse_what_cannot_be(client, ask, agent_headers, service):
    sue, alice = agent_headers("sue"), agent_headers("alice")
    question = ask("is there a sauna", SAUNA)
    assert client.get("/api/unanswered-questions/groups").status_code == 401
    assert client.get("/api/unanswered-questions/groups", headers=alice).status_code == 403
    teach = "/api/unanswered-questions/teach-group"
    assert (
        client.post(teach, json={"question_ids": [question["id"]], "faq_id": "wifi"}, headers=alice)
    ).status_code == 403
    unknown_faq = client.post(
        teach, json={"question_ids": [question["id"]], "faq_id": "nope"}, headers=sue
    )
    assert unknown_faq.status_code == 422
    empty = client.post(teach, json={"question_ids": [], "faq_id": "wifi"}, headers=sue)
    assert empty.status_code == 400
    assert "at least 1" in empty.json["message"]
    unknown = client.post(
        "/api/unanswered-questions/faq-draft", json={"question_ids": [999999]}, headers=sue
    )
    assert unknown.status_code == 404
    too_long = client.post(
        "/api/unanswered-questions",
        json={
            "sender_id": "c",
            "channel": "web",
            "text": "x",
            "outcome": "none",
            "embedding": [300],
        },
        headers=service,
    )
    assert too_long.status_code == 400
    assert "embedding" in too_long.json["message"]
