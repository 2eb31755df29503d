"""action_handoff and the relay between customer and agent."""

from __future__ import annotations

from rasa_sdk.events import SlotSet

from actions.conversation import ActionHandoff
from actions.faq.engine import Decision, Hit
from actions.handoff import ActionEndSession, ActionHandoffResolved, ActionTellQueuePosition
from actions.relay import ActionForwardToAgent
from tests.actions.conftest import (
    REFUND,
    FakeEngine,
    FakeHandoffClient,
    decision,
    make_tracker,
    not_a_question,
    user_event,
)

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
    events = ActionHandoff(engine=not_a_question(), client=client).run(dispatcher, tracker, {})

    (packet,) = client.packets
    assert packet["sender_id"] == "customer-1"
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
    assert len(dispatcher.messages) == 1  # a short wait: no questions
    assert SlotSet("handoff_active", True) in events
    assert SlotSet("handoff_id", 7) in events


def test_a_long_wait_asks_an_unknown_customer_how_to_reach_them(dispatcher):
    client = FakeHandoffClient(expected_wait_s=900)
    ActionHandoff(engine=not_a_question(), client=client).run(
        dispatcher, make_tracker(CONVERSATION), {}
    )
    assert dispatcher.messages[1]["response"] == "utter_ask_details_while_waiting"


def test_a_long_wait_does_not_ask_a_customer_we_can_already_reach(dispatcher):
    client = FakeHandoffClient(expected_wait_s=900)
    slots = {"customer_name": "Maria Lopez", "customer_phone": "+44 20 7946 0958"}
    ActionHandoff(engine=not_a_question(), client=client).run(
        dispatcher, make_tracker(CONVERSATION, slots=slots), {}
    )
    assert len(dispatcher.messages) == 1


def test_handoff_with_nobody_on_duty_offers_to_leave_a_message(dispatcher):
    tracker = make_tracker(CONVERSATION)
    events = ActionHandoff(engine=not_a_question(), client=FakeHandoffClient(agents_online=0)).run(
        dispatcher, tracker, {}
    )
    assert dispatcher.messages[0]["response"] == "utter_leave_message"
    assert SlotSet("taking_message", True) in events


def test_with_nobody_on_duty_a_known_contact_is_not_asked_again(dispatcher):
    tracker = make_tracker(CONVERSATION, slots={"customer_email": "maria@example.com"})
    ActionHandoff(engine=not_a_question(), client=FakeHandoffClient(agents_online=0)).run(
        dispatcher, tracker, {}
    )
    assert dispatcher.messages[0]["response"] == "utter_leave_message_for_contact"
    assert dispatcher.messages[0]["contact"] == "maria@example.com"


TAKING_MESSAGE = {"handoff_active": True, "handoff_id": 7, "taking_message": True}


def test_a_message_without_a_way_back_is_kept_and_the_contact_asked_for(dispatcher):
    client = FakeHandoffClient(agents_online=0)
    tracker = make_tracker(
        [user_event("my cabin key stopped working", "ask_question")], slots=TAKING_MESSAGE
    )
    events = ActionForwardToAgent(client=client, engine=not_a_question()).run(
        dispatcher, tracker, {}
    )
    assert client.messages_left == []
    assert dispatcher.messages[0]["response"] == "utter_ask_contact_for_message"
    assert events == [SlotSet("message_left", "my cabin key stopped working")]


def test_a_question_the_faq_knows_is_answered_while_the_message_waits_for_a_contact(dispatcher):
    client = FakeHandoffClient(agents_online=0)
    tracker = make_tracker(
        [user_event("when do i get my money back", "ask_question")],
        slots={**TAKING_MESSAGE, "message_left": "my cabin key stopped working"},
    )
    engine = FakeEngine(Decision("answer", [Hit(REFUND, 0.97)]))

    events = ActionForwardToAgent(client=client, engine=engine).run(dispatcher, tracker, {})

    # Before: "Got it. How can our team reach you?" to every question, until a contact came.
    assert dispatcher.messages[0]["text"] == REFUND.answer
    assert dispatcher.messages[-1]["response"] == "utter_message_still_kept"
    assert client.messages_left == []
    assert {event.get("name") for event in events}.isdisjoint({"message_left", "taking_message"})


def test_the_message_and_contact_become_a_ticket_and_the_bot_is_back(dispatcher):
    client = FakeHandoffClient(agents_online=0)
    tracker = make_tracker(
        [user_event("maria@example.com", "give_contact")],
        slots={
            **TAKING_MESSAGE,
            "message_left": "my cabin key stopped working",
            "customer_email": "maria@example.com",
        },
    )
    events = ActionForwardToAgent(client=client).run(dispatcher, tracker, {})
    assert client.messages_left == [
        (7, "maria@example.com", "my cabin key stopped working\nmaria@example.com")
    ]
    assert dispatcher.messages[0]["response"] == "utter_message_left"
    assert SlotSet("handoff_active", False) in events
    assert SlotSet("taking_message", False) in events


def test_a_message_left_while_the_server_is_down_is_kept_for_the_next_try(dispatcher):
    tracker = make_tracker(
        [user_event("call me on +44 20 7946 0958", "give_contact")],
        slots={
            **TAKING_MESSAGE,
            "message_left": "lost my bag",
            "customer_phone": "+44 20 7946 0958",
        },
    )
    events = ActionForwardToAgent(client=FakeHandoffClient(fail=True)).run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["response"] == "utter_handoff_unavailable"
    assert events == [SlotSet("message_left", "lost my bag\ncall me on +44 20 7946 0958")]


def test_if_an_agent_took_the_conversation_meanwhile_they_get_the_message_live(dispatcher):
    client = FakeHandoffClient(claimed=True)
    tracker = make_tracker(
        [user_event("hello? maria@example.com", "give_contact")],
        slots={**TAKING_MESSAGE, "customer_email": "maria@example.com"},
        message_id="abc",
    )
    events = ActionForwardToAgent(client=client).run(dispatcher, tracker, {})
    assert client.forwarded == [(7, "hello? maria@example.com", "abc")]
    assert dispatcher.messages == []
    assert SlotSet("taking_message", False) in events
    assert SlotSet("handoff_active", False) not in events


def test_handoff_server_down_is_told_honestly_and_the_bot_stays_in_charge(dispatcher):
    tracker = make_tracker(CONVERSATION)
    events = ActionHandoff(engine=not_a_question(), client=FakeHandoffClient(fail=True)).run(
        dispatcher, tracker, {}
    )
    assert dispatcher.messages[0]["response"] == "utter_handoff_unavailable"
    assert SlotSet("handoff_active", True) not in events


def test_a_reason_set_earlier_wins_over_the_intent(dispatcher):
    client = FakeHandoffClient()
    tracker = make_tracker(CONVERSATION, slots={"handoff_reason": "sensitive_topic"})
    ActionHandoff(engine=not_a_question(), client=client).run(dispatcher, tracker, {})
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


def test_the_agent_gets_the_faqs_found_for_a_forwarded_message(dispatcher):
    client = FakeHandoffClient()
    tracker = make_tracker(
        [user_event("when will I see my refund?", "ask_question")], slots={"handoff_id": 7}
    )
    engine = FakeEngine(decision("answer", REFUND))
    ActionForwardToAgent(client=client, engine=engine).run(dispatcher, tracker, {})
    assert client.forwarded_hits == [[{"faq_id": REFUND.id, "score": 0.9}]]
    assert dispatcher.messages == []


def test_a_forwarded_message_still_reaches_the_agent_when_the_faq_search_fails(dispatcher):
    client = FakeHandoffClient()
    tracker = make_tracker([user_event("hello?", "ask_question")], slots={"handoff_id": 7})
    engine = FakeEngine(RuntimeError("index missing"))
    ActionForwardToAgent(client=client, engine=engine).run(dispatcher, tracker, {})
    assert client.forwarded == [(7, "hello?", "m-1")]
    assert client.forwarded_hits == [None]


def test_a_message_that_cannot_reach_the_agent_is_not_silently_dropped(dispatcher):
    tracker = make_tracker([user_event("hello?", "greet")], slots={"handoff_id": 7})
    ActionForwardToAgent(client=FakeHandoffClient(fail=True)).run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["response"] == "utter_handoff_unavailable"


def test_a_message_to_a_conversation_the_team_closed_is_not_called_unreachable(dispatcher):
    tracker = make_tracker([user_event("hello?", "greet")], slots={"handoff_id": 7})

    events = ActionForwardToAgent(client=FakeHandoffClient(ended=True)).run(dispatcher, tracker, {})

    # Not "I can't reach our team": the bot says what happened and answers again.
    assert [message["response"] for message in dispatcher.messages] == ["utter_handoff_ended"]
    assert SlotSet("handoff_active", False) in events
    assert SlotSet("handoff_id", None) in events


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
    assert SlotSet("handoff_active", False) in events
    assert SlotSet("handoff_id", None) in events
    assert SlotSet("rating_for", 7) in events


def test_a_guest_who_left_the_kiosk_gives_up_their_place_in_the_queue(dispatcher):
    client = FakeHandoffClient()
    tracker = make_tracker(
        [user_event("/session_end", "session_end")], slots={"handoff_active": True, "handoff_id": 7}
    )
    events = ActionEndSession(client=client).run(dispatcher, tracker, {})
    assert client.abandoned == [7]
    assert SlotSet("handoff_active", False) in events
    assert dispatcher.messages == []


def test_a_session_without_a_handoff_just_ends(dispatcher):
    client = FakeHandoffClient()
    tracker = make_tracker([user_event("/session_end", "session_end")])
    ActionEndSession(client=client).run(dispatcher, tracker, {})
    assert client.abandoned == []
