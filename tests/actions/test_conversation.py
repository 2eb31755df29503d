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
    ("action_class", "intent"),
    [
        (ActionSmallTalk, "goodbye"),
        (ActionHandoff, "request_human"),
        (ActionHandleFrustration, "complaint"),
        (ActionRememberCustomer, "give_name"),
    ],
)
def test_an_faq_question_gets_its_answer_whatever_the_intent(action_class, intent, dispatcher):
    client = FakeHandoffClient()
    engine = FakeEngine(decision("answer", REFUND), question=True)
    events = run(action_class, "refund timing", intent, engine, dispatcher, client)
    assert [message.get("text") for message in dispatcher.messages] == [REFUND.answer]
    assert client.packets == []  # nobody was queued for it
    assert any(event["name"] == "faq_result" for event in events)


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
