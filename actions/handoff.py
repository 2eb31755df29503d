"""Hand the conversation to a person, relay between customer and agent, and take over again."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.context import context_packet, handoff_reason
from actions.handoff_client import HandoffClient, HandoffUnavailable

logger = logging.getLogger(__name__)

VALID_RATINGS = {"1", "2", "3", "4", "5"}


def minutes(seconds: float | int | None) -> int:
    """Round a wait in seconds up to whole minutes, at least one."""
    return max(1, -(-int(seconds or 0) // 60))


class UsesHandoffClient:
    """Give an action an optional injected handoff client, created on first use."""

    def __init__(self, client: HandoffClient | None = None) -> None:
        self._client = client

    @property
    def client(self) -> HandoffClient:
        if self._client is None:
            self._client = HandoffClient()
        return self._client


def hand_off(
    client: HandoffClient, dispatcher: CollectingDispatcher, tracker: Tracker, reason: str
) -> list[EventType]:
    """Queue the conversation for a person with its full context, and tell the customer."""
    just_said = [message["text"] for message in dispatcher.messages if message.get("text")]
    try:
        handoff = client.create_handoff(context_packet(tracker, reason, just_said))
    except HandoffUnavailable:
        logger.exception("Handoff of %s failed", tracker.sender_id)
        dispatcher.utter_message(response="utter_handoff_unavailable")
        return [SlotSet("handoff_reason", None), SlotSet("handoff_offered", False)]

    if handoff.get("agents_online", 0) > 0:
        dispatcher.utter_message(
            text=(
                f"I'm bringing in a person from our team. You're number "
                f"{handoff['position']} in the queue; the wait is about "
                f"{minutes(handoff.get('expected_wait_s'))} minute(s). "
                "You can keep writing here: they'll see everything."
            )
        )
    else:
        dispatcher.utter_message(
            text=(
                "Nobody from our team is available right now. Leave your message "
                "and a way to reach you here, and they'll get back to you as soon as "
                "they're in."
            )
        )
    return [
        SlotSet("handoff_active", True),
        SlotSet("handoff_id", handoff["id"]),
        SlotSet("handoff_reason", None),
        SlotSet("handoff_offered", False),
    ]


class ActionHandoff(UsesHandoffClient, Action):
    """Hand off because the customer asked, or accepted the offer of a person."""

    def name(self) -> str:
        return "action_handoff"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        return hand_off(self.client, dispatcher, tracker, handoff_reason(tracker))


class ActionForwardToAgent(UsesHandoffClient, Action):
    """Pass the customer's message to the agent; the bot itself says nothing."""

    def name(self) -> str:
        return "action_forward_to_agent"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        message = tracker.latest_message
        try:
            self.client.forward_customer_message(
                tracker.get_slot("handoff_id"), message.get("text") or "", message.get("message_id")
            )
        except HandoffUnavailable:
            logger.exception("Forwarding a message of %s failed", tracker.sender_id)
            dispatcher.utter_message(response="utter_handoff_unavailable")
        return []


class ActionTellQueuePosition(Action):
    """Tell a waiting customer their new place in the queue and the expected wait."""

    def name(self) -> str:
        return "action_tell_queue_position"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        entities = {
            entity["entity"]: entity.get("value")
            for entity in tracker.latest_message.get("entities", [])
        }
        dispatcher.utter_message(
            text=(
                f"You're now number {entities.get('queue_position')} in the queue; about "
                f"{minutes(entities.get('expected_wait_s'))} minute(s) to go."
            )
        )
        return []


class ActionHandoffResolved(Action):
    """Take over again after the agent resolved the conversation."""

    def name(self) -> str:
        return "action_handoff_resolved"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_back_with_bot")
        dispatcher.utter_message(
            response="utter_ask_rating",
            buttons=[
                {"title": "★" * stars, "payload": f'/rate{{"rating": {stars}}}'}
                for stars in range(5, 0, -1)
            ],
        )
        return [
            SlotSet("handoff_active", False),
            SlotSet("handoff_id", None),
            SlotSet("rating_for", tracker.get_slot("handoff_id")),
        ]


class ActionStoreRating(UsesHandoffClient, Action):
    """Store the customer's rating (1 to 5) of the conversation an agent just resolved."""

    def name(self) -> str:
        return "action_store_rating"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        handoff_id = tracker.get_slot("rating_for")
        rating = next(
            (
                str(entity.get("value"))
                for entity in tracker.latest_message.get("entities", [])
                if entity.get("entity") == "rating"
            ),
            None,
        )
        if handoff_id is None or rating not in VALID_RATINGS:
            dispatcher.utter_message(response="utter_anything_else")
            return []
        try:
            self.client.rate(handoff_id, int(rating))
        except HandoffUnavailable:
            logger.exception("Storing the rating of handoff %s failed", handoff_id)
        dispatcher.utter_message(response="utter_thanks_for_rating")
        return [SlotSet("rating_for", None)]
