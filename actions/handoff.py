"""Hand the conversation to a person, relay between customer and agent, and take over again."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.context import context_packet
from actions.handoff_client import HandoffClient, HandoffConflict, HandoffUnavailable
from actions.kiosk import desk_text, kiosk_place, shared_venue
from lumen.handoff_api import handed_off_slots
from lumen.vocabulary import ENDED_HANDOFF_SLOT
from venue.data import VenueError
from venue.routes import nearest_staffed

logger = logging.getLogger(__name__)

VALID_RATINGS = {"1", "2", "3", "4", "5"}
# From this expected wait on, a customer the team could not reach is asked how to reach them.
LONG_WAIT_S = 300


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

    someone_on_duty = handoff.get("agents_online", 0) > 0
    events: list[EventType] = [
        *(SlotSet(name, value) for name, value in handed_off_slots(handoff["id"]).items()),
        SlotSet("taking_message", not someone_on_duty),
        SlotSet("message_left", None),
    ]
    if someone_on_duty:
        dispatcher.utter_message(
            text=(
                f"I'm bringing in a person from our team. You're number "
                f"{handoff['position']} in the queue; the wait is about "
                f"{minutes(handoff.get('expected_wait_s'))} minute(s). "
                "You can keep writing here: they'll see everything."
            )
        )
        if handoff.get("expected_wait_s", 0) >= LONG_WAIT_S and not (
            tracker.get_slot("customer_name") and contact_of(tracker)
        ):
            dispatcher.utter_message(response="utter_ask_details_while_waiting")
        return events
    desk = staffed_desk_instead(client, dispatcher, tracker, handoff["id"])
    if desk is not None:
        return desk
    contact = contact_of(tracker)
    if contact:
        dispatcher.utter_message(response="utter_leave_message_for_contact", contact=contact)
    else:
        dispatcher.utter_message(response="utter_leave_message")
    return events


def staffed_desk_instead(
    client: HandoffClient, dispatcher: CollectingDispatcher, tracker: Tracker, handoff_id: int
) -> list[EventType] | None:
    """At a kiosk with nobody on duty, send the guest to the nearest staffed desk.

    A passer-by leaves no email for a reply: the conversation leaves the queue and the bot
    is back in charge. None when not at a kiosk the venue knows.
    """
    try:
        venue = shared_venue()
        here = kiosk_place(venue, tracker)
    except VenueError:
        logger.exception("The venue data could not be read; taking a message instead")
        return None
    if here is None:
        return None
    desk = venue.places[nearest_staffed(venue, here.id)]
    dispatcher.utter_message(
        text="Nobody from our team can answer on this screen right now, but you can talk to "
        f"someone in person. {desk_text(venue, here, desk)}"
    )
    try:
        client.abandon(handoff_id)
    except HandoffUnavailable:
        logger.exception("Taking handoff %s out of the queue failed", handoff_id)
    return bot_in_charge()


def bot_in_charge() -> list[EventType]:
    """Return the slot events that end a handoff: the bot answers again."""
    return [
        SlotSet("handoff_active", False),
        SlotSet("handoff_id", None),
        SlotSet("taking_message", False),
        SlotSet("message_left", None),
    ]


def contact_of(tracker: Tracker) -> str | None:
    """Return the email address or phone number the customer gave, if any."""
    return tracker.get_slot("customer_email") or tracker.get_slot("customer_phone")


def take_message(
    client: HandoffClient, dispatcher: CollectingDispatcher, tracker: Tracker
) -> list[EventType]:
    """Collect a message for the team while nobody is on duty, until there is a way back."""
    message = tracker.latest_message
    text = "\n".join(filter(None, [tracker.get_slot("message_left"), message.get("text")]))
    contact = contact_of(tracker)
    if not contact:
        dispatcher.utter_message(response="utter_ask_contact_for_message")
        return [SlotSet("message_left", text)]
    handoff_id = tracker.get_slot("handoff_id")
    try:
        client.leave_offline_message(handoff_id, contact, text)
    except HandoffConflict:
        # An agent came on duty and took the conversation meanwhile: they read it live.
        return [
            SlotSet("taking_message", False),
            SlotSet("message_left", None),
            *forward(client, dispatcher, tracker, text),
        ]
    except HandoffUnavailable:
        logger.exception("Leaving the message of %s failed", tracker.sender_id)
        dispatcher.utter_message(response="utter_handoff_unavailable")
        return [SlotSet("message_left", text)]
    dispatcher.utter_message(response="utter_message_left", contact=contact)
    return bot_in_charge()


def forward(
    client: HandoffClient,
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    text: str,
    faq_hits: list[dict[str, Any]] | None = None,
    handoff_id: int | None = None,
) -> list[EventType]:
    """Pass `text` to the agent of `handoff_id` (the current handoff by default); tell the
    customer what happened if it cannot get there.

    A message that arrives after the agent resolved is still taken (marked late); a 409
    means the conversation ended otherwise on the team's side, so the bot takes over.
    """
    if handoff_id is None:
        handoff_id = tracker.get_slot("handoff_id")
    try:
        client.forward_customer_message(
            handoff_id,
            text,
            tracker.latest_message.get("message_id"),
            faq_hits,
        )
    except HandoffConflict:
        logger.warning("Handoff %s has ended; the bot takes over", handoff_id)
        dispatcher.utter_message(response="utter_handoff_ended")
        return bot_in_charge()
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
        ended = tracker.get_slot("handoff_id")
        return [*bot_in_charge(), SlotSet(ENDED_HANDOFF_SLOT, ended)]


class ActionStoreRating(UsesHandoffClient, Action):
    """Store the customer's rating (1 to 5) of the conversation an agent just resolved."""

    def name(self) -> str:
        return "action_store_rating"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        handoff_id = tracker.get_slot(ENDED_HANDOFF_SLOT)
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
        return [SlotSet(ENDED_HANDOFF_SLOT, None)]


class ActionEndSession(UsesHandoffClient, Action):
    """The customer left (a kiosk wiped itself for the next guest): leave the queue too."""

    def name(self) -> str:
        return "action_end_session"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        handoff_id = tracker.get_slot("handoff_id")
        if tracker.get_slot("handoff_active") and handoff_id is not None:
            try:
                self.client.abandon(handoff_id)
            except HandoffUnavailable:
                logger.exception("Abandoning handoff %s failed", handoff_id)
        return bot_in_charge()
