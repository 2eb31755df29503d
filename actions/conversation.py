"""Actions for the conversational intents; each gives way to the FAQ when the text is a question.

NLU is sure of itself on short questions ("visa requirments" read as a name, "braille signs"
as goodbye, "Can I add another person to my booking?" as a request for a person). The FAQ's
score is evidence against it: a text the FAQ would answer outright, with a score above every
NLU example of the intent (FaqEngine.is_question), is answered from the FAQ instead.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.answer_faq import ActionAnswerFaq
from actions.context import handoff_reason
from actions.escalation import frustration_offered, offer_events
from actions.faq.engine import Decision, FaqEngine
from actions.handoff import UsesHandoffClient, hand_off
from actions.handoff_client import HandoffClient
from lumen.vocabulary import HandoffReason

logger = logging.getLogger(__name__)

# The intents that answer "Would you like a person?" (rules in data/rules/handoff.yml).
ANSWERS_TO_AN_OFFER = frozenset({"affirm", "deny"})


class YieldsToFaq(UsesHandoffClient, Action, ABC):
    """Answer from the FAQ when it claims the text, otherwise reply to the intent."""

    def __init__(self, client: HandoffClient | None = None, engine: FaqEngine | None = None):
        super().__init__(client)
        self._engine = engine

    @property
    def faq(self) -> ActionAnswerFaq:
        """Return the FAQ answering action, on this action's engine and handoff client."""
        return ActionAnswerFaq(self._engine, self.client)

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if tracker.get_slot("handoff_offered") and intent_of(tracker) in ANSWERS_TO_AN_OFFER:
            # A yes or no to the person just offered is an answer, never a question. Any other
            # message may be one: NLU read "Can I change the date of my cruise?", asked while
            # a person was on offer, as a request for one.
            return self.reply(None, dispatcher, tracker)
        faq = self.faq
        try:
            decision = faq.decide(tracker)
        except Exception:
            # The FAQ's opinion is only evidence: without it, the classifier's intent stands.
            logger.exception("FAQ search failed; replying to the intent as classified")
            return self.reply(None, dispatcher, tracker)
        if faq.engine.is_question(decision, intent_of(tracker)):
            return self.answered(faq.answer(decision, dispatcher, tracker), dispatcher)
        return self.reply(decision, dispatcher, tracker)

    def answered(
        self, events: list[EventType], dispatcher: CollectingDispatcher
    ) -> list[EventType]:
        """Return the events of the FAQ's answer; an intent may add to what was said."""
        return events

    @abstractmethod
    def reply(
        self, decision: Decision | None, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[EventType]:
        """Reply to the intent; `decision` is the FAQ's, for an intent that may fall back on it."""


def intent_of(tracker: Tracker) -> str:
    """Return the intent the classifier gave the latest message."""
    return str((tracker.latest_message.get("intent") or {}).get("name") or "")


# The reply to each small-talk intent.
SMALL_TALK_RESPONSES = {
    "greet": "utter_greet",
    "goodbye": "utter_goodbye",
    "thanks": "utter_youre_welcome",
    "affirm": "utter_anything_else",
    "deny": "utter_anything_else",
    "bot_challenge": "utter_iamabot",
}


class ActionSmallTalk(YieldsToFaq):
    """Greet, say goodbye, take thanks, a yes or a no, and say it is a bot: each by its response."""

    def name(self) -> str:
        return "action_small_talk"

    def reply(
        self, decision: Decision | None, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[EventType]:
        dispatcher.utter_message(
            response=SMALL_TALK_RESPONSES.get(intent_of(tracker), "utter_anything_else")
        )
        return []


class ActionHandoff(YieldsToFaq):
    """Hand off because the customer asked, or accepted the offer of a person.

    A question that only sounds like a request ("Can I add another person to my booking?")
    gets its answer, and the person is still offered with one click.
    """

    def name(self) -> str:
        return "action_handoff"

    def answered(
        self, events: list[EventType], dispatcher: CollectingDispatcher
    ) -> list[EventType]:
        if any(
            event.get("name") in ("handoff_active", "handoff_offered") and event.get("value")
            for event in events
        ):
            return events  # the answer itself brought in or offered a person
        dispatcher.utter_message(response="utter_offer_human_too")
        return [*events, *offer_events(HandoffReason.CUSTOMER_REQUEST)]

    def reply(
        self, decision: Decision | None, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[EventType]:
        return hand_off(self.client, dispatcher, tracker, handoff_reason(tracker))


class ActionHandleFrustration(YieldsToFaq):
    """Answer a complaint: offer a person the first time, hand off at once after that."""

    def name(self) -> str:
        return "action_handle_frustration"

    def reply(
        self, decision: Decision | None, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[EventType]:
        if frustration_offered(tracker):
            return hand_off(self.client, dispatcher, tracker, HandoffReason.FRUSTRATION)
        dispatcher.utter_message(response="utter_offer_human_frustrated")
        return offer_events(HandoffReason.FRUSTRATION)
