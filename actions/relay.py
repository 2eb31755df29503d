"""Relay the customer's messages while a person has the conversation, or take a message.

While a person holds the conversation the bot says nothing: every message goes to the agent,
with the FAQs the engine finds for it (the console suggests their answers). So does a
message the customer wrote to them before seeing them leave (`bot.late_messages`).
While nobody is on duty the bot takes a message for the team, and asks for an email or phone
number until it has one; a question the FAQ answers outright meanwhile gets its answer (a
customer serves themselves at any hour) and the message keeps waiting for its way back.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.answer_faq import ActionAnswerFaq, scored_hits
from actions.faq.engine import FaqEngine
from actions.handoff import UsesHandoffClient, contact_of, forward, take_message
from actions.handoff_client import HandoffClient
from lumen.vocabulary import ENDED_HANDOFF_SLOT, FORWARD_LATE_ACTION

logger = logging.getLogger(__name__)


class ActionForwardToAgent(UsesHandoffClient, Action):
    """Pass the customer's message to the agent (the bot says nothing), or take a message."""

    def __init__(self, client: HandoffClient | None = None, engine: FaqEngine | None = None):
        super().__init__(client)
        self._engine = engine

    def name(self) -> str:
        return "action_forward_to_agent"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if not tracker.get_slot("taking_message"):
            text = tracker.latest_message.get("text") or ""
            return forward(self.client, dispatcher, tracker, text, self.faq_hits(tracker))
        if not contact_of(tracker):
            answered = self.answer_if_known(dispatcher, tracker)
            if answered is not None:
                return answered
        return take_message(self.client, dispatcher, tracker)

    def faq_hits(self, tracker: Tracker) -> list[dict[str, Any]] | None:
        """Return the FAQs the engine finds for the message: the agent sees their answers."""
        try:
            return scored_hits(ActionAnswerFaq(self._engine, self.client).decide(tracker))
        except Exception:
            logger.exception("FAQ search failed for a forwarded message; sent without hits")
            return None

    def answer_if_known(
        self, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[EventType] | None:
        """Answer a question the FAQ knows outright, and remind the customer of their message."""
        faq = ActionAnswerFaq(self._engine, self.client)
        try:
            decision = faq.decide(tracker)
        except Exception:
            # Without the FAQ's opinion the text is part of the message, as before.
            logger.exception("FAQ search failed while taking a message")
            return None
        if decision.kind != "answer" or decision.hits[0].faq.escalate:
            return None
        events = faq.answer(decision, dispatcher, tracker)
        dispatcher.utter_message(response="utter_message_still_kept")
        return events


class ActionForwardLateMessage(ActionForwardToAgent):
    """Pass a message written before the customer saw the handoff end to that conversation.

    The handoff server keeps it, marked late, and the agent can take the conversation back;
    the bot says nothing over it.
    """

    def name(self) -> str:
        return FORWARD_LATE_ACTION

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text = tracker.latest_message.get("text") or ""
        ended = tracker.get_slot(ENDED_HANDOFF_SLOT)
        return forward(self.client, dispatcher, tracker, text, self.faq_hits(tracker), ended)
