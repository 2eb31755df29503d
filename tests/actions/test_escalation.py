"""The escalation policy: misses, frustration, offers accepted and declined, ratings."""

from __future__ import annotations

from rasa_sdk.events import SlotSet

from actions.answer_faq import ActionAnswerFaq
from actions.conversation import ActionHandleFrustration
from actions.escalation import ActionDeclineHandoff, ActionRejectSuggestions
from actions.handoff import ActionStoreRating
from tests.actions.conftest import (
    REFUND,
    FakeEngine,
    FakeHandoffClient,
    decision,
    make_tracker,
    not_a_question,
    user_event,
)


def answer(dispatcher, kind, text="where is the spa", slots=None, earlier=(), client=None):
    faqs = (REFUND,) if kind != "none" else ()
    tracker = make_tracker([*earlier, user_event(text, "ask_question")], slots=slots)
    engine = FakeEngine(decision(kind, *faqs))
    action = ActionAnswerFaq(engine=engine, client=client or FakeHandoffClient())
    return action.run(dispatcher, tracker, {})


def test_a_first_miss_says_so_without_pushing_a_person(dispatcher):
    events = answer(dispatcher, "none")
    assert dispatcher.messages[0]["response"] == "utter_dont_know"
    assert SlotSet("miss_streak", 1) in events
    assert SlotSet("handoff_offered", True) not in events


def test_two_misses_in_a_row_offer_a_person_as_a_yes_no_question(dispatcher):
    events = answer(dispatcher, "none", slots={"miss_streak": 1})
    assert dispatcher.messages[0]["response"] == "utter_offer_human_after_misses"
    assert SlotSet("handoff_offered", True) in events
    assert SlotSet("handoff_reason", "repeated_misses") in events


def test_an_answer_resets_the_streak(dispatcher):
    events = answer(dispatcher, "answer", slots={"miss_streak": 1})
    assert SlotSet("miss_streak", 0) in events


SUGGESTED = {
    "text": "can i bring my drone",
    "kind": "suggest",
    "hits": [{"faq_id": "refund_timeline", "score": 0.61}, {"faq_id": "cancellation_fees"}],
    "tags": ["refunds"],
}


def test_rejected_suggestions_count_as_a_miss_and_are_recorded_as_a_gap(dispatcher):
    client = FakeHandoffClient()
    tracker = make_tracker(
        [user_event("/reject_suggestions", "reject_suggestions")], slots={"faq_result": SUGGESTED}
    )
    events = ActionRejectSuggestions(not_a_question(), client).run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["response"] == "utter_ask_rephrase"
    assert SlotSet("miss_streak", 1) in events
    assert client.unanswered == [
        {
            "sender_id": "customer-1",
            "channel": "web",
            "text": "can i bring my drone",
            "outcome": "rejected",
            "suggestions": ["refund_timeline", "cancellation_fees"],
            "embedding": [len("can i bring my drone"), 0, 0],
        }
    ]

    tracker = make_tracker(
        [user_event("/reject_suggestions", "reject_suggestions")], slots={"miss_streak": 1}
    )
    events = ActionRejectSuggestions(not_a_question(), client).run(dispatcher, tracker, {})
    assert dispatcher.messages[-1]["response"] == "utter_offer_human_after_misses"
    assert SlotSet("handoff_reason", "repeated_misses") in events


def test_an_angry_question_is_answered_and_a_person_offered_once(dispatcher):
    events = answer(
        dispatcher, "answer", text="I am furious, this is a disgrace, where is my money"
    )
    assert dispatcher.messages[0]["text"] == REFUND.answer
    assert dispatcher.messages[1]["response"] == "utter_offer_human_frustrated"
    assert SlotSet("frustration_offered", True) in events
    assert SlotSet("handoff_reason", "frustration") in events


def test_the_same_question_asked_again_reads_as_frustration(dispatcher):
    earlier = [user_event("where is my refund", "ask_question")]
    answer(dispatcher, "answer", text="Where is my refund?", earlier=earlier)
    assert dispatcher.messages[-1]["response"] == "utter_offer_human_frustrated"


def test_frustration_after_the_offer_hands_off_at_once(dispatcher):
    client = FakeHandoffClient()
    slots = {"frustration_offered": True}
    events = answer(dispatcher, "none", "this is useless and terrible", slots, client=client)
    assert client.packets[0]["reason"] == "frustration"
    assert ["in the queue" in message["text"] for message in dispatcher.messages] == [True]
    assert SlotSet("handoff_active", True) in events


def test_a_question_asked_again_after_the_offer_is_answered_while_a_person_comes(dispatcher):
    client = FakeHandoffClient()
    earlier = [user_event("where is my refund", "ask_question")]
    slots = {"frustration_offered": True}
    events = answer(dispatcher, "answer", "Where is my refund?", slots, earlier, client=client)
    assert dispatcher.messages[0]["text"] == REFUND.answer
    assert "in the queue" in dispatcher.messages[-1]["text"]
    assert client.packets[0]["reason"] == "frustration"
    assert SlotSet("handoff_active", True) in events


def test_a_complaint_offers_once_then_hands_off(dispatcher):
    tracker = make_tracker([user_event("you're useless", "complaint")])
    events = ActionHandleFrustration(engine=not_a_question()).run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["response"] == "utter_offer_human_frustrated"
    assert SlotSet("handoff_offered", True) in events

    client = FakeHandoffClient()
    tracker = make_tracker(
        [user_event("still useless", "complaint")], slots={"frustration_offered": True}
    )
    events = ActionHandleFrustration(engine=not_a_question(), client=client).run(
        dispatcher, tracker, {}
    )
    assert client.packets[0]["reason"] == "frustration"
    assert SlotSet("handoff_active", True) in events


def test_declining_returns_to_self_service_without_nagging(dispatcher):
    tracker = make_tracker([user_event("no", "deny")], slots={"handoff_offered": True})
    events = ActionDeclineHandoff().run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["response"] == "utter_handoff_declined"
    assert SlotSet("handoff_offered", False) in events
    assert SlotSet("miss_streak", 0) in events


def test_a_rating_is_stored_with_the_resolved_conversation(dispatcher):
    client = FakeHandoffClient()
    tracker = make_tracker(
        [user_event('/rate{"rating": 4}', "rate")],
        slots={"rating_for": 7},
        entities=[{"entity": "rating", "value": 4}],
    )
    events = ActionStoreRating(client=client).run(dispatcher, tracker, {})
    assert client.ratings == [(7, 4)]
    assert dispatcher.messages[0]["response"] == "utter_thanks_for_rating"
    assert events == [SlotSet("rating_for", None)]


def test_a_rating_out_of_range_is_not_stored(dispatcher):
    client = FakeHandoffClient()
    tracker = make_tracker(
        [user_event('/rate{"rating": 12}', "rate")],
        slots={"rating_for": 7},
        entities=[{"entity": "rating", "value": 12}],
    )
    ActionStoreRating(client=client).run(dispatcher, tracker, {})
    assert client.ratings == []
