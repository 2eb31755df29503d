"""Build the context packet a person needs to carry on without asking again."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from rasa_sdk import Tracker
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from actions.kiosk import kiosk_place, place_label, shared_venue
from lumen import context_packet as packets
from lumen.vocabulary import HandoffReason
from venue.data import VenueError

logger = logging.getLogger(__name__)

INTENT_REASONS = {
    "request_human": HandoffReason.CUSTOMER_REQUEST,
    "complaint": HandoffReason.FRUSTRATION,
}


@lru_cache(maxsize=1)
def sentiment_analyzer() -> SentimentIntensityAnalyzer:
    """Load VADER's lexicon once per process."""
    return SentimentIntensityAnalyzer()


def sentiment_of(text: str) -> float:
    """Return VADER's compound score of a text, from -1 (angry) to 1 (happy)."""
    return float(sentiment_analyzer().polarity_scores(text)["compound"])


def session_metadata(tracker: Tracker) -> dict[str, Any]:
    """Return the channel, page or kiosk and locale the customer's messages came with."""
    return packets.session_metadata(tracker.events)


def handoff_reason(tracker: Tracker) -> str:
    """Return why this handoff happens: a reason set earlier, else the latest intent."""
    intent = tracker.latest_message.get("intent", {}).get("name", "")
    return tracker.get_slot("handoff_reason") or INTENT_REASONS.get(
        intent, HandoffReason.CUSTOMER_REQUEST
    )


def context_packet(
    tracker: Tracker, reason: str, just_said: list[str] | None = None
) -> dict[str, Any]:
    """Assemble the packet for POST /api/handoffs; `just_said` is what this turn uttered.

    From a kiosk the venue data names its place, for the agent to find the guest by.
    """
    packet = packets.context_packet(
        tracker.sender_id,
        tracker.events,
        tracker.slots,
        reason,
        just_said=just_said or [],
        sentiment_of=sentiment_of,
    )
    try:
        place = kiosk_place(shared_venue(), tracker)
    except VenueError:
        logger.exception("The venue data could not be read; the kiosk's place is left out")
        place = None
    if place is not None:
        packet["kiosk_location"] = place_label(place)
    return packet
