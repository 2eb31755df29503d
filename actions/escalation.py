"""When a person should take over, and why: the escalation policy and its actions.

- the customer asks for a person: hand off at once (rule in data/rules/handoff.yml);
- two misses in a row (a "don't know" or rejected suggestions): offer a person;
- frustration (the complaint intent, strongly negative sentiment, or the same
  question asked again): offer once per conversation, hand off at once if it goes on;
- a FAQ marked `escalate: true`, or a failure of the bot: hand off at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.context import sentiment_of, session_metadata
from actions.faq.engine import FaqEngine, get_engine
from actions.handoff import UsesHandoffClient
from actions.handoff_client import HandoffClient, HandoffUnavailable
from knowledge_base.faqs import normalize_text
from lumen.vocabulary import HandoffReason
from pii.masking import mask_for_report

logger = logging.getLogger(__name__)

MISSES_BEFORE_OFFER = 2
# VADER compound score at or below which a message reads as strongly negative.
STRONGLY_NEGATIVE = -0.6


def miss_streak(tracker: Tracker) -> int:
    """Return how many misses in a row the conversation has had so far."""
    return int(tracker.get_slot("miss_streak") or 0)


def should_offer_after_miss(tracker: Tracker) -> bool:
    """Tell whether this miss, added to the streak, calls for offering a person."""
    return miss_streak(tracker) + 1 >= MISSES_BEFORE_OFFER


def asked_again(tracker: Tracker) -> bool:
    """Tell whether the latest message repeats an earlier question of the customer."""
    texts = [
        normalize_text(event.get("text") or "")
        for event in tracker.events
        if event.get("event") == "user" and event.get("text")
    ]
    return len(texts) >= 2 and texts[-1] in texts[:-1] and bool(texts[-1])


def frustration_signal(tracker: Tracker) -> bool:
    """Tell whether the latest message shows frustration beyond its intent."""
    text = tracker.latest_message.get("text") or ""
    return sentiment_of(text) <= STRONGLY_NEGATIVE or asked_again(tracker)


def frustration_offered(tracker: Tracker) -> bool:
    """Tell whether a person was already offered because of frustration."""
    return bool(tracker.get_slot("frustration_offered"))


def offer_events(reason: HandoffReason) -> list[EventType]:
    """Return the slot events that record a pending offer of a person and its reason."""
    events = [SlotSet("handoff_offered", True), SlotSet("handoff_reason", reason.value)]
    if reason is HandoffReason.FRUSTRATION:
        events.append(SlotSet("frustration_offered", True))
    return events


def record_miss(
    client: HandoffClient,
    tracker: Tracker,
    text: str,
    outcome: str,
    suggestions: list[str] | None = None,
    embed: Callable[[str], list[int]] | None = None,
) -> None:
    """Record a question the bot could not answer for the FAQ gaps report; never fail a turn.

    The report is read for the questions, not the people: emails and phones are masked. With
    `embed` (the FAQ engine's), the masked text's embedding goes along, so supervisors see alike
    questions grouped and teach a group at once.
    """
    if not text.strip():
        return
    masked = mask_for_report(text)
    question: dict[str, Any] = {
        "sender_id": tracker.sender_id,
        "channel": session_metadata(tracker)["channel"],
        "text": masked,
        "outcome": outcome,
        "suggestions": suggestions or [],
    }
    if embed is not None:
        try:
            question["embedding"] = embed(masked)
        except Exception:
            # Recorded without it, the question stands in a group of its own.
            logger.exception("Embedding an unanswered question of %s failed", tracker.sender_id)
    try:
        client.record_unanswered(question)
    except HandoffUnavailable:
        logger.exception("Recording an unanswered question of %s failed", tracker.sender_id)


class ActionRejectSuggestions(UsesHandoffClient, Action):
    """Count "none of these" as a miss: ask again, or offer a person after two misses."""

    def __init__(self, engine: FaqEngine | None = None, client: HandoffClient | None = None):
        super().__init__(client)
        self._engine = engine

    @property
    def engine(self) -> FaqEngine:
        return self._engine or get_engine()

    def name(self) -> str:
        return "action_reject_suggestions"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        suggested = tracker.get_slot("faq_result") or {}
        record_miss(
            self.client,
            tracker,
            suggested.get("text") or "",
            "rejected",
            [hit["faq_id"] for hit in suggested.get("hits", [])],
            embed=lambda text: self.engine.embed(text),
        )
        events: list[EventType] = [
            SlotSet("miss_streak", miss_streak(tracker) + 1),
            SlotSet("faq_result", {"kind": "rejected", "hits": [], "tags": []}),
        ]
        if should_offer_after_miss(tracker):
            dispatcher.utter_message(response="utter_offer_human_after_misses")
            return events + offer_events(HandoffReason.REPEATED_MISSES)
        dispatcher.utter_message(response="utter_ask_rephrase")
        return events


class ActionDeclineHandoff(Action):
    """Go back to self-service without nagging when the customer says no to a person."""

    def name(self) -> str:
        return "action_decline_handoff"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_handoff_declined")
        return [
            SlotSet("handoff_offered", False),
            SlotSet("handoff_reason", None),
            SlotSet("miss_streak", 0),
        ]
