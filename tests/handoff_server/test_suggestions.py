"""Suggested answers: the knowledge base's answers to the customer's latest message."""

from __future__ import annotations

import re

from knowledge_base.faqs import load_knowledge_base
from scripts.stack import REPO_ROOT

FAQS = {faq.id: faq for faq in load_knowledge_base(REPO_ROOT / "data" / "faq")}


def test_an_agent_opening_a_handoff_sees_answers_to_what_the_customer_asked(
    client, service, agent_headers, hand_off
):
    conversation = hand_off("conv-1")
    detail = client.get(f"/api/conversations/{conversation['id']}", headers=agent_headers("bob"))
    refund = FAQS["refund_timeline"]
    assert detail.json["suggested_answers"] == [
        {
            "faq_id": "refund_timeline",
            "question": refund.question,
            "answer": refund.answer.strip(),
            "score": 0.82,
        }
    ]


def test_suggestions_follow_the_customers_latest_message(client, service, agent_headers, hand_off):
    conversation = hand_off("conv-1")
    path = f"/api/conversations/{conversation['id']}"
    hits = [
        {"faq_id": "wifi_access", "score": 0.9},
        {"faq_id": "no-longer-in-the-kb", "score": 0.5},
    ]
    posted = client.post(
        f"{path}/customer-messages",
        json={"text": "and how do I get online?", "faq_hits": hits},
        headers=service,
    )
    assert posted.status_code == 201
    suggested = client.get(path, headers=agent_headers("bob")).json["suggested_answers"]
    # An FAQ removed from the knowledge base since is left out.
    assert [answer["faq_id"] for answer in suggested] == ["wifi_access"]
    assert suggested[0]["answer"] == FAQS["wifi_access"].answer.strip()

    client.post(f"{path}/customer-messages", json={"text": "hello?"}, headers=service)
    assert client.get(path, headers=agent_headers("bob")).json["suggested_answers"] == []


def test_hits_that_are_not_hits_are_refused_naming_the_field(client, service, hand_off):
    conversation = hand_off("conv-1")
    response = client.post(
        f"/api/conversations/{conversation['id']}/customer-messages",
        json={"text": "hi", "faq_hits": [{"score": 0.3}]},
        headers=service,
    )
    assert response.status_code == 400
    assert "faq_hits" in response.json["message"]


def test_suggested_answers_say_what_the_bot_would_have_said_where_the_customer_is(
    client, service, agent_headers, hand_off
):
    at_lounge = hand_off("kiosk-1", channel="kiosk", kiosk_id="lounge-3", kiosk_location="Lounge")
    on_website = hand_off("web-1")
    hits = [{"faq_id": "back_to_cabin", "score": 0.9}, {"faq_id": "todays_programme", "score": 0.8}]
    answers = {}
    for conversation in (at_lounge, on_website):
        path = f"/api/conversations/{conversation['id']}"
        posted = client.post(
            f"{path}/customer-messages",
            json={"text": "where am I", "faq_hits": hits},
            headers=service,
        )
        assert posted.status_code == 201
        suggested = client.get(path, headers=agent_headers("bob")).json["suggested_answers"]
        answers[conversation["sender_id"]] = [answer["answer"] for answer in suggested]

    assert answers["kiosk-1"][0].startswith("You're at the Lounge.")
    # Away from a kiosk, the bot names the information desk.
    assert answers["web-1"][0].startswith("You're at Reception.")
    assert re.match(r"It's \d\d:\d\d on board\.", answers["web-1"][1])
