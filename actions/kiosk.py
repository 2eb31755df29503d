"""The kiosk's place in the venue (data/venue), the time there, and the way from it."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from rasa_sdk import Tracker

from actions.settings import ActionSettings
from knowledge_base.faqs import PLACEHOLDER
from lumen.context_packet import session_metadata
from lumen.vocabulary import Channel
from venue.answers import fill_answer
from venue.data import Place, Venue, load_venue
from venue.routes import steps
from venue.schedule import local_now


@lru_cache(maxsize=1)
def shared_venue() -> Venue:
    """Load the venue of ActionSettings once per process."""
    return load_venue(ActionSettings.from_env().venue_dir)


def settings_clock() -> datetime:
    """Return now: the settings' fixed time (tests only) or the real clock, in the venue's zone."""
    return local_now(shared_venue(), ActionSettings.from_env().venue_now)


def filled(answer: str, tracker: Tracker) -> str:
    """Fill an FAQ answer's placeholders where the guest is (venue.answers.fill_answer)."""
    if not PLACEHOLDER.search(answer):
        return answer  # most answers have none: no venue to load, no clock to read
    venue = shared_venue()
    return fill_answer(answer, venue, kiosk_place(venue, tracker), settings_clock())


def kiosk_place(venue: Venue, tracker: Tracker) -> Place | None:
    """Return the place of the kiosk the guest is at, or None (website, unknown kiosk)."""
    session = session_metadata(tracker.events)
    if session.get("channel") != Channel.KIOSK.value:
        return None
    return venue.places.get(str(session.get("kiosk_place") or ""))


def place_label(place: Place) -> str:
    """Name a place with where it is, for the agent: "Reception (deck 2, midship)"."""
    return f"{place.name.removeprefix('the ')} ({place.where})"


def way_from(venue: Venue, here: Place | None, there: Place) -> str:
    """Say where a place is and, from a kiosk, the steps to get there."""
    where = f"{there.name[:1].upper()}{there.name[1:]} is on {there.where}."
    if here is None:
        return where
    if here.id == there.id:
        return f"{where} You're there: it's right here."
    route = steps(venue, here.id, there.id)
    return "\n".join([where, "From here:", *(f"{n}. {step}" for n, step in enumerate(route, 1))])


def desk_text(venue: Venue, here: Place | None, desk: Place) -> str:
    """Send the guest to a staffed desk, with the way there from a kiosk."""
    return f"The crew at {desk.name} can help. " + way_from(venue, here, desk)
