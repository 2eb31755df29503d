"""action_remember_customer: the customer is known by name once they give it."""

from __future__ import annotations

import pytest
from rasa_sdk.events import SlotSet

from actions.customer import ActionRememberCustomer, extract_name
from tests.actions.conftest import make_tracker, not_a_question, user_event


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("I'm Maria Lopez", "Maria Lopez"),
        ("my name is tom", "Tom"),
        ("call me Sam", "Sam"),
        ("this is José García here", "José García"),
        ("priya natarajan", "Priya Natarajan"),
    ],
)
def test_names_are_found_however_they_are_typed(text, name):
    assert extract_name(text) == name


def test_no_name_in_a_message_without_one():
    assert extract_name("my email is anna.berg@example.com") is None


def test_the_name_is_kept_and_used_at_once(dispatcher):
    tracker = make_tracker([user_event("I'm Maria Lopez", "give_name")])
    events = ActionRememberCustomer(engine=not_a_question()).run(dispatcher, tracker, {})
    assert events == [SlotSet("customer_name", "Maria Lopez")]
    assert dispatcher.messages[0]["response"] == "utter_nice_to_meet_you"
    assert dispatcher.messages[0]["customer_name"] == "Maria Lopez"


def test_a_contact_is_acknowledged(dispatcher):
    tracker = make_tracker(
        [user_event("anna.berg@example.com", "give_contact")],
        slots={"customer_email": "anna.berg@example.com"},
        entities=[{"entity": "email", "value": "anna.berg@example.com"}],
    )
    assert ActionRememberCustomer(engine=not_a_question()).run(dispatcher, tracker, {}) == []
    assert dispatcher.messages[0]["response"] == "utter_contact_noted"
