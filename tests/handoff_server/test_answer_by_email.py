"""Answering a message left while nobody was on duty: by email through a real SMTP server,
or, for a phone number, recording the call."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from handoff_server.mailer import Mailer, is_email
from tests.smtp_inbox import Inbox, running_inbox


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with running_inbox() as inbox:
        yield inbox


@pytest.fixture
def mailing(another_app: Any, inbox: Inbox) -> Any:
    """A client of the app, configured to send through the inbox's server."""
    smtp = {"SMTP_URL": inbox.url, "SMTP_FROM": "team@river.example"}
    return another_app(**smtp).test_client()


def leave_message(client: Any, hand_off: Any, service: dict[str, str], contact: str) -> str:
    """Hand off, leave a message with `contact`; return the conversation's API path."""
    conversation = hand_off()
    path = f"/api/conversations/{conversation['id']}"
    left = client.post(
        f"{path}/offline-message",
        json={"contact": contact, "text": "Can I bring my bike on board?"},
        headers=service,
    )
    assert left.status_code == 200
    return path


def test_the_answer_reaches_the_customers_inbox_and_closes_the_message(
    mailing, hand_off, service, agent_headers, inbox
):
    path = leave_message(mailing, hand_off, service, "maria@example.com")
    answer = "Yes: folding bikes travel free, others for 10 EUR. <b>Tell us at check-in.</b>"

    response = mailing.post(f"{path}/answer", json={"text": answer}, headers=agent_headers("alice"))

    assert response.status_code == 200, response.json
    assert response.json["state"] == "resolved"
    [email] = inbox.messages
    assert (email["To"], email["From"]) == ("maria@example.com", "team@river.example")
    assert email["Subject"].startswith("Your message to ")
    body = email.get_payload()
    assert "Hello Maria Lopez," in body and answer in body and "Alice Archer" in body
    transcript = mailing.get(path, headers=agent_headers("alice")).json["transcript"]
    assert [turn["text"] for turn in transcript[-2:]] == [
        answer,
        "Answered by email to maria@example.com by Alice Archer.",
    ]


def test_a_refused_email_records_nothing_and_may_be_sent_again(
    mailing, hand_off, service, agent_headers, inbox
):
    path = leave_message(mailing, hand_off, service, "maria@example.com")
    alice = agent_headers("alice")
    inbox.refusing = True

    refused = mailing.post(f"{path}/answer", json={"text": "Yes, bikes are fine."}, headers=alice)

    assert refused.status_code == 503
    assert "could not be sent" in refused.json["message"]
    assert mailing.get(path, headers=alice).json["state"] == "offline"
    inbox.refusing = False
    again = mailing.post(f"{path}/answer", json={"text": "Yes, bikes are fine."}, headers=alice)
    assert again.status_code == 200
    assert len(inbox.messages) == 1


def test_a_phone_number_is_called_and_the_call_recorded_without_an_email(
    mailing, hand_off, service, agent_headers, inbox
):
    path = leave_message(mailing, hand_off, service, "+44 20 7946 0958")

    response = mailing.post(
        f"{path}/answer", json={"text": "Told her bikes are fine."}, headers=agent_headers("bob")
    )

    assert response.status_code == 200
    assert inbox.messages == []
    transcript = mailing.get(path, headers=agent_headers("bob")).json["transcript"]
    assert transcript[-1]["text"] == "Answered by phone at +44 20 7946 0958 by Bob Baker."


def test_only_a_message_left_is_answered_and_only_once(
    mailing, hand_off, service, agent_headers, inbox
):
    alice = agent_headers("alice")
    queued = hand_off("conv-queued")
    not_left = mailing.post(
        f"/api/conversations/{queued['id']}/answer", json={"text": "Hi"}, headers=alice
    )
    path = leave_message(mailing, hand_off, service, "maria@example.com")
    mailing.post(f"{path}/answer", json={"text": "Yes."}, headers=alice)
    twice = mailing.post(f"{path}/answer", json={"text": "Yes, again."}, headers=alice)
    unknown = mailing.post("/api/conversations/999999/answer", json={"text": "x"}, headers=alice)
    unsigned = mailing.post(f"{path}/answer", json={"text": "x"})

    assert (not_left.status_code, twice.status_code) == (409, 409)
    assert (unknown.status_code, unsigned.status_code) == (404, 401)
    assert len(inbox.messages) == 1  # the second answer never left


def test_without_an_smtp_server_the_console_is_told_and_nothing_is_recorded(
    client, hand_off, service, agent_headers
):
    path = leave_message(client, hand_off, service, "maria@example.com")

    response = client.post(f"{path}/answer", json={"text": "Yes."}, headers=agent_headers("alice"))

    assert response.status_code == 503
    assert "SMTP_URL" in response.json["message"]
    assert client.get(path, headers=agent_headers("alice")).json["state"] == "offline"


def test_an_email_address_is_told_from_a_phone_number_and_bad_settings_refused():
    assert is_email("maria@example.com")
    assert not is_email("+44 20 7946 0958")
    assert not is_email("Maria <maria@example.com> please")
    with pytest.raises(ValueError, match="SMTP_URL"):
        Mailer.check("mail.example.com:25", "team@example.com")
    with pytest.raises(ValueError, match="SMTP_FROM"):
        Mailer.check("smtp://mail.example.com", "the team")
