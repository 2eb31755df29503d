"""Answer a customer's question from the FAQ knowledge base."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.context import session_metadata
from actions.escalation import (
    frustration_offered,
    frustration_signal,
    miss_streak,
    offer_events,
    record_miss,
    should_offer_after_miss,
)
from actions.faq.engine import Decision, FaqEngine, get_engine
from actions.faq_sync import start_paraphrase_sync
from actions.handoff import UsesHandoffClient, hand_off
from actions.handoff_client import HandoffClient, HandoffUnavailable
from actions.kiosk import filled
from knowledge_base.faqs import Faq
from lumen.vocabulary import HandoffReason

logger = logging.getLogger(__name__)

MAX_SUGGESTIONS = 3


class ActionAnswerFaq(UsesHandoffClient, Action):
    """Answer, suggest up to three FAQs, or say honestly that nothing fits."""

    def __init__(self, engine: FaqEngine | None = None, client: HandoffClient | None = None):
        super().__init__(client)
        self._engine = engine

    def name(self) -> str:
        return "action_answer_faq"

    @property
    def engine(self) -> FaqEngine:
        if self._engine is not None:
            return self._engine
        # The shared engine learns what supervisors teach, from this first question on,
        # without a rebuild or a restart.
        start_paraphrase_sync()
        return get_engine()

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        try:
            decision = self.decide(tracker)
        except Exception:
            return self.fail(dispatcher, tracker)
        return self.answer(decision, dispatcher, tracker)

    def decide(self, tracker: Tracker) -> Decision:
        """Search the FAQ for the latest message, among the FAQs of the customer's channel."""
        text = tracker.latest_message.get("text") or ""
        return self.engine.decide(text, channel=session_metadata(tracker)["channel"])

    def fail(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """Whatever broke (index missing, model failing), give the customer a person."""
        logger.exception("FAQ search failed for %r", tracker.latest_message.get("text"))
        dispatcher.utter_message(response="utter_faq_unavailable")
        return hand_off(self.client, dispatcher, tracker, HandoffReason.BOT_FAILURE)

    def answer(
        self, decision: Decision, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[EventType]:
        """Answer, suggest, or say that nothing fits, and escalate as the policy says."""
        text = tracker.latest_message.get("text") or ""
        record_decision(self.client, tracker, decision)
        events: list[EventType] = [
            SlotSet("faq_result", faq_result(decision, text)),
            SlotSet("handoff_offered", False),
        ]
        frustrated = frustration_signal(tracker)
        if frustrated and frustration_offered(tracker):
            # Frustration goes on after a person was offered: a person takes over, and what
            # the FAQ knows for certain is said while they come.
            if decision.kind == "answer":
                say_answer(decision.hits[0].faq, dispatcher, tracker)
            return events + hand_off(self.client, dispatcher, tracker, HandoffReason.FRUSTRATION)

        if decision.kind == "answer":
            faq = decision.hits[0].faq
            say_answer(faq, dispatcher, tracker)
            events.append(SlotSet("miss_streak", 0))
            if faq.escalate:
                return events + hand_off(
                    self.client, dispatcher, tracker, HandoffReason.SENSITIVE_TOPIC
                )
        elif decision.kind == "suggest":
            buttons = [
                {"title": hit.faq.question, "payload": hit.faq.question}
                for hit in decision.hits[:MAX_SUGGESTIONS]
            ]
            buttons.append({"title": "None of these", "payload": "/reject_suggestions"})
            dispatcher.utter_message(response="utter_did_you_mean", buttons=buttons)
        else:
            record_miss(self.client, tracker, text, "none", embed=self.engine.embed)
            events.append(SlotSet("miss_streak", miss_streak(tracker) + 1))
            if should_offer_after_miss(tracker):
                dispatcher.utter_message(response="utter_offer_human_after_misses")
                return [*events, *offer_events(HandoffReason.REPEATED_MISSES)]
            dispatcher.utter_message(
                response="utter_dont_know",
                buttons=[{"title": "Talk to a person", "payload": "/request_human"}],
            )
        if frustrated:
            dispatcher.utter_message(response="utter_offer_human_frustrated")
            events += offer_events(HandoffReason.FRUSTRATION)
        return events


def say_answer(faq: Faq, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """Say an FAQ's answer, with its buttons and links."""
    dispatcher.utter_message(
        text=filled(faq.answer, tracker),
        buttons=[dict(button) for button in faq.buttons] or None,
    )
    for link in faq.links:
        dispatcher.utter_message(text=f"{link['title']}: {link['url']}")


def record_decision(client: HandoffClient, tracker: Tracker, decision: Decision) -> None:
    """Record the decision's kind and FAQ (never the text) for reports; never fail a turn."""
    try:
        client.record_decision(
            {
                "sender_id": tracker.sender_id,
                "channel": session_metadata(tracker)["channel"],
                "kind": decision.kind,
                "faq_id": decision.hits[0].faq.id if decision.kind == "answer" else None,
            }
        )
    except HandoffUnavailable:
        logger.exception("Recording the FAQ decision of %s failed", tracker.sender_id)


def scored_hits(decision: Decision) -> list[dict[str, Any]]:
    """Return the decision's best hits as the transcript and the agents' suggestions show them."""
    return [{"faq_id": hit.faq.id, "score": round(hit.score, 4)} for hit in decision.hits[:3]]


def faq_result(decision: Decision, text: str) -> dict[str, Any]:
    """Describe a decision for the transcript: the question, kind, scored hits, top FAQ's tags."""
    return {
        "text": text,
        "kind": decision.kind,
        "hits": scored_hits(decision),
        "tags": list(decision.hits[0].faq.tags)
        if decision.kind != "none" and decision.hits
        else [],
    }
