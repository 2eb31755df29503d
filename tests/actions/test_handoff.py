"""action_handoff and the relay between customer and agent."""

from __future__ import annotations

from rasa_sdk.events import SlotSet

from actions.handoff import (
    ActionForwardToAgent,
    ActionHandoff,
    ActionHandoffResolved,
    ActionTellQueuePosition,
)
from tests.actions.conftest import FakeHandoffClient, make_tracker, user_event

CONVERSATION = [
    user_event(
        "when do i get my money back",
        "ask_question",
        metadata={"channel": "web", "page_url": "https://lumen-river.example/refunds"},
    ),
    {"event": "bot", "text": "Refunds reach your card within 10 working days.", "timestamp": 1.0},
    {
        "event": "slot",
        "name": "faq_result",
        "value": {
            "kind": "answer",
            "hits": [{"faq_id": "refund_timeline", "score": 0.82}],
            "tags": ["refunds"],
        },
    },
    user_event("this is useless, I want a human", "request_human", confidence=0.97),
]


def test_handoff_sends_the_full_context_and_tells_the_queue_position(dispatcher):
    client = FakeHandoffClient()
    tracker = make_tracker(CONVERSATION, slots={"customer_name": "Maria Lopez"})
    events = ActionHandoff(client=client).run(dispatcher, tracker, {})

    (packet,) = client.packets
    assert packet["conversation_id"] == "customer-1"
    assert packet["channel"] == "web"
    assert packet["page_url"] == "https://lumen-river.example/refunds"
    assert packet["customer"]["name"] == "Maria Lopez"
    assert packet["reason"] == "customer_request"
    assert packet["tags"] == ["refunds"]
    assert [turn["role"] for turn in packet["transcript"]] == ["customer", "bot", "customer"]
    first = packet["transcript"][0]
    assert first["intent"] == "ask_question"
    assert first["faq_hits"] == [{"faq_id": "refund_timeline", "score": 0.82}]
    # "this is useless" reads as negative to VADER.
    assert packet["transcript"][2]["sentiment"] < 0
    assert "last:" in packet["summary"]

    assert "number 2 in the queue" in dispatcher.messages[0]["text"]
    assert "3 minute(s)" in dispatcher.messages[0]["text"]
    assert SlotSet("handoff_active", True) in events
    assert SlotSet("handoff_id", 7) in events


def test_handoff_with_nobody_on_duty_offers_to_leave_a_message(dispatcher):
    tracker = make_tracker(CONVERSATION)
    ActionHandoff(client=FakeHandoffClient(agents_online=0)).run(dispatcher, tracker, {})
    assert "Leave your message" in dispatcher.messages[0]["text"]


def test_handoff_server_down_is_told_honestly_and_the_bot_stays_in_charge(dispatcher):
    tracker = make_tracker(CONVERSATION)
    events = ActionHandoff(client=FakeHandoffClient(fail=True)).run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["response"] == "utter_handoff_unavailable"
    assert SlotSet("handoff_active", True) not in events


def test_a_reason_set_earlier_wins_over_the_intent(dispatcher):
    client = FakeHandoffClient()
    tracker = make_tracker(CONVERSATION, slots={"handoff_reason": "sensitive_topic"})
    ActionHandoff(client=client).run(dispatcher, tracker, {})
    assert client.packets[0]["reason"] == "sensitive_topic"


def test_customer_messages_go_to_the_agent_and_the_bot_says_nothing(dispatcher):
    client = FakeHandoffClient()
    tracker = make_tracker(
        [user_event("my ref is LR123456", "give_contact")],
        slots={"handoff_id": 7},
        message_id="abc",
    )
    assert ActionForwardToAgent(client=client).run(dispatcher, tracker, {}) == []
    assert client.forwarded == [(7, "my ref is LR123456", "abc")]
    assert dispatcher.messages == []


def test_a_message_that_cannot_reach_the_agent_is_not_silently_dropped(dispatcher):
    tracker = make_tracker([user_event("hello?", "greet")], slots={"handoff_id": 7})
    ActionForwardToAgent(client=FakeHandoffClient(fail=True)).run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["response"] == "utter_handoff_unavailable"


def test_queue_updates_tell_the_new_position_and_wait(dispatcher):
    tracker = make_tracker(
        [user_event("", "EXTERNAL_queue_update")],
        entities=[
            {"entity": "queue_position", "value": 1},
            {"entity": "expected_wait_s", "value": 40},
        ],
    )
    assert ActionTellQueuePosition().run(dispatcher, tracker, {}) == []
    assert dispatcher.messages[0]["text"] == (
        "You're now number 1 in the queue; about 1 minute(s) to go."
    )


def test_after_resolve_the_bot_is_back_in_charge_and_asks_for_a_rating(dispatcher):
    tracker = make_tracker([user_event("", "EXTERNAL_handoff_resolved")], slots={"handoff_id": 7})
    events = ActionHandoffResolved().run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["response"] == "utter_back_with_bot"
    assert dispatcher.messages[1]["response"] == "utter_ask_rating"
    assert [button["payload"] for button in dispatcher.messages[1]["buttons"]][-1] == (
        '/rate{"rating": 1}'
    )
    assert events == [
        SlotSet("handoff_active", False),
        SlotSet("handoff_id", None),
        SlotSet("rating_for", 7),
    ]
