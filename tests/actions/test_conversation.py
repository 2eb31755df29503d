"""Conversational intents give way to the FAQ when the text is one of its questions."""

from __future__ import annotations

import pytest
from rasa_sdk.events import SlotSet

from actions.conversation import ActionHandleFrustration, ActionHandoff, ActionSmallTalk
from actions.customer import ActionRememberCustomer
from tests.actions.conftest import (
    REFUND,
    FakeEngine,
    FakeHandoffClient,
    decision,
    make_tracker,
    not_a_question,
    user_event,
)


def run(action_class, text, intent, engine, dispatcher, client=None):
    tracker = make_tracker([user_event(text, intent)])
    action = action_class(engine=engine, client=client or FakeHandoffClient())
    return action.run(dispatcher, tracker, {})


@pytest.mark.parametrize(
    ("intent", "response"),
    [
        ("greet", "utter_greet"),
        ("goodbye", "utter_goodbye"),
        ("thanks", "utter_youre_welcome"),
        ("affirm", "utter_anything_else"),
        ("deny", "utter_anything_else"),
        ("bot_challenge", "utter_iamabot"),
    ],
)
def test_small_talk_is_answered_in_kind(intent, response, dispatcher):
    assert run(ActionSmallTalk, "hello there", intent, not_a_question(), dispatcher) == []
    assert [message["response"] for message in dispatcher.messages] == [response]


@pytest.mark.parametrize(
    ("action_class", "intent", "text"),
    [
        (ActionSmallTalk, "goodbye", "refund timing"),
        (ActionHandleFrustration, "complaint", "refund timing"),
        # A bare name would be remembered: claimed by the FAQ, it is answered instead.
        (ActionRememberCustomer, "give_name", "refund timing"),
    ],
)
def test_an_faq_question_gets_its_answer_whatever_the_intent(
    action_class, intent, text, dispatcher
):
    client = FakeHandoffClient()
    engine = FakeEngine(decision("answer", REFUND), question=True)
    events = run(action_class, text, intent, engine, dispatcher, client)
    assert [message.get("text") for message in dispatcher.messages] == [REFUND.answer]
    assert client.packets == []  # nobody was queued for it
    assert not any(event["name"] == "customer_name" for event in events)


def test_a_question_that_sounds_like_a_request_is_answered_and_a_person_still_offered(
    dispatcher,
):
    client = FakeHandoffClient()
    engine = FakeEngine(decision("answer", REFUND), question=True)
    events = run(
        ActionHandoff, "can a person refund me", "request_human", engine, dispatcher, client
    )
    assert dispatcher.messages[0]["text"] == REFUND.answer
    assert dispatcher.messages[1]["response"] == "utter_offer_human_too"
    assert client.packets == []
    assert SlotSet("handoff_offered", True) in events
    assert SlotSet("handoff_reason", "customer_request") in events


def test_a_yes_to_the_person_offered_is_never_taken_for_a_question(dispatcher):
    client = FakeHandoffClient()
    engine = FakeEngine(decision("answer", REFUND), question=True)
    tracker = make_tracker(
        [user_event("yes please, about my refund", "affirm")], slots={"handoff_offered": True}
    )
    ActionHandoff(engine=engine, client=client).run(dispatcher, tracker, {})
    assert len(client.packets) == 1
    assert engine.channels == []  # the FAQ was not even asked


@pytest.mark.parametrize(
    ("action_class", "intent"),
    [(ActionHandoff, "request_human"), (ActionSmallTalk, "bot_challenge")],
)
def test_a_question_after_a_person_was_offered_still_gets_its_answer(
    action_class, intent, dispatcher
):
    # Seen in a load run: "What are the River Circle benefits?", asked while a person was on
    # offer, got "I'm an automated assistant"; "Can I change the date of my cruise?" a handoff.
    client = FakeHandoffClient()
    engine = FakeEngine(decision("answer", REFUND), question=True)
    tracker = make_tracker(
        [user_event("when is my refund paid", intent)], slots={"handoff_offered": True}
    )
    action_class(engine=engine, client=client).run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["text"] == REFUND.answer
    assert client.packets == []


def test_a_contact_is_noted_even_when_the_message_reads_like_a_question(dispatcher):
    engine = FakeEngine(decision("answer", REFUND), question=True)
    tracker = make_tracker(
        [user_event("my email for the refund is anna@example.com", "give_contact")],
        entities=[{"entity": "email", "value": "anna@example.com"}],
    )
    ActionRememberCustomer(engine=engine, client=FakeHandoffClient()).run(dispatcher, tracker, {})
    assert [message["response"] for message in dispatcher.messages] == ["utter_contact_noted"]


def test_a_request_for_a_person_hands_off(dispatcher):
    client = FakeHandoffClient()
    events = run(
        ActionHandoff, "a person please", "request_human", not_a_question(), dispatcher, client
    )
    assert client.packets[0]["reason"] == "customer_request"
    assert SlotSet("handoff_active", True) in events


def test_a_give_name_turn_without_a_name_is_a_question_for_the_faq(dispatcher):
    engine = FakeEngine(decision("suggest", REFUND))  # not claimed, but no name either
    events = run(ActionRememberCustomer, "the refund of it", "give_name", engine, dispatcher)
    assert dispatcher.messages[0]["response"] == "utter_did_you_mean"
    assert not any(event["name"] == "customer_name" for event in events)


def test_when_the_faq_search_fails_the_intent_stands(dispatcher):
    engine = FakeEngine(RuntimeError("index missing"))
    client = FakeHandoffClient()
    assert run(ActionSmallTalk, "hi", "greet", engine, dispatcher, client) == []
    assert [message["response"] for message in dispatcher.messages] == ["utter_greet"]
    assert client.packets == []
