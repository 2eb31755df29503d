"""What FAQ answers' placeholders say (knowledge_base.faqs.ANSWER_PLACEHOLDERS) at a place.

One definition for the bot, which fills an answer where the customer asks (actions/kiosk.py),
and for the agent console, which suggests the same answers to an agent (handoff_server).
"""

from __future__ import annotations

from datetime import datetime

from knowledge_base.faqs import PLACEHOLDER
from venue.data import Place, Venue


def fill_answer(answer: str, venue: Venue, here: Place | None, now: datetime) -> str:
    """Fill {kiosk_place} (where the guest's kiosk stands; away from one, the information
    desk) and {now} (the local time on board); leave anything else as written."""
    if not PLACEHOLDER.search(answer):
        return answer
    place = here or venue.places[venue.information_desk]
    values = {"kiosk_place": place.name, "now": now.strftime("%H:%M")}
    return PLACEHOLDER.sub(lambda match: values.get(match[1], match[0]), answer)
