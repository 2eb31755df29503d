"""Answer "what's on?" and "how do I get to ...?" from data/venue, from the kiosk's own place.

At a kiosk (channel `kiosk`, its place sent with each message: config/assistant.yml) each
answer comes with the way from there; on the website, where the place is, without a route.
Places and cabins are found in the text by spaCy (the pipeline the action server loads for
names) with the places' names and aliases.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from spacy.matcher import PhraseMatcher
from spacy.tokens import Span
from spacy.util import filter_spans

from actions.conversation import YieldsToFaq
from actions.customer import language
from actions.faq.engine import Decision, FaqEngine
from actions.handoff_client import HandoffClient
from actions.kiosk import desk_text, kiosk_place, settings_clock, shared_venue, way_from
from venue.data import Place, Venue
from venue.routes import nearest_staffed
from venue.schedule import Programme, Showing, programme

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
TONIGHT = re.compile(r"\b(tonight|this evening|later today)\b", re.IGNORECASE)
# Words without which a text is no question about the programme or the way somewhere,
# however sure the intent classifier is ("what is the capital of Peru" is what's on to it, at 0.94).
PROGRAMME_WORDS = re.compile(
    r"\b(on|now|today|tonight|tomorrow|next|later|evening|afternoon|morning|programme|program"
    r"|schedule|happening|events?|activit\w*|shows?|music|entertainment|starts?|playing)\b",
    re.IGNORECASE,
)
WAY_WORDS = re.compile(
    r"\b(where|where's|way|get to|get back|go to|find|route|directions?|lost|take me|located"
    r"|reach)\b",
    re.IGNORECASE,
)
CABIN_WORDS = ("cabin", "room", "stateroom", "suite")
CABIN_NUMBER = re.compile(r"^\d{3,4}$")


@lru_cache(maxsize=4)
def place_matcher(venue: Venue) -> PhraseMatcher:
    """Match every place's name (without "the") and aliases, case-insensitively."""
    nlp, _ = language()
    matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
    for place in venue.places.values():
        if place.cabins:
            continue  # corridors are reached by cabin number
        names = {place.name.removeprefix("the "), *place.aliases}
        matcher.add(place.id, [nlp.make_doc(name) for name in names])
    return matcher


@dataclass(frozen=True)
class Destination:
    """What a guest asked the way to: a place, a cabin (with its corridor), or neither."""

    place: Place | None = None
    cabin: int | None = None


def destination(venue: Venue, text: str) -> Destination:
    """Find the cabin number or the place a message asks about."""
    nlp, _ = language()
    doc = nlp(text)
    numbers = [token for token in doc if CABIN_NUMBER.match(token.text)]
    cabin = next(
        (t for t in numbers if t.i > 0 and doc[t.i - 1].lower_ in CABIN_WORDS),
        numbers[0] if numbers else None,
    )
    if cabin is not None:
        number = int(cabin.text)
        return Destination(venue.cabin_corridor(number), number)
    spans = [Span(doc, start, end, label=match) for match, start, end in place_matcher(venue)(doc)]
    longest = filter_spans(spans)
    if longest:
        return Destination(venue.places[longest[0].label_])
    return Destination()


def showing_text(venue: Venue, showing: Showing, here: Place | None, label: str) -> str:
    """Describe one event: when, what, where, and the way there from a kiosk."""
    place = venue.places[showing.event.place]
    times = (
        f"until {showing.end:%H:%M}"
        if label == "On now"
        else f"{showing.start:%H:%M} to {showing.end:%H:%M}"
    )
    return f"{label}: {showing.event.title}, {times}, in {place.name}. " + way_from(
        venue, here, place
    )


def whats_on_messages(venue: Venue, now: datetime, text: str, here: Place | None) -> list[str]:
    """Say what is on at `now` and what comes next, at the place the text names or anywhere."""
    asked = destination(venue, text).place
    tonight = bool(TONIGHT.search(text))
    found: Programme = programme(venue, now, asked.id if asked else None, tonight=tonight)
    at_place = f" in {asked.name}" if asked else ""
    messages = [showing_text(venue, showing, here, "On now") for showing in found.now]
    if not found.now:
        messages.append(
            f"Nothing is on{at_place} right now ({now.astimezone(venue.timezone):%H:%M})."
        )
    messages += [showing_text(venue, showing, here, "Next") for showing in found.next]
    if not found.next:
        messages.append(f"Nothing more is on the programme{at_place} today.")
    return messages


class VenueAction(YieldsToFaq):
    """Answer from the venue, unless the FAQ answers the text outright with another topic.

    NLU hears "how much is a beer at the bar" as directions and "birthday cake on board" as
    what's on; the FAQ knows them. The FAQs the venue answers live (tagged `live_topic`:
    the programme, directions) never take the question back. A text that is not about the
    venue at all (`about_the_venue`) gets the FAQ's own reply: an honest "I don't know"
    rather than the programme.
    """

    live_topic: str

    def __init__(
        self,
        client: HandoffClient | None = None,
        engine: FaqEngine | None = None,
        venue: Venue | None = None,
        clock: Clock | None = None,
    ):
        super().__init__(client, engine)
        self._venue = venue
        self._clock = clock

    @property
    def venue(self) -> Venue:
        return self._venue or shared_venue()

    def now(self) -> datetime:
        return (self._clock or settings_clock)()

    def about_the_venue(self, text: str) -> bool:
        """Tell whether the text asks what this action answers."""
        raise NotImplementedError

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        faq = self.faq
        try:
            decision: Decision | None = faq.decide(tracker)
        except Exception:
            logger.exception("FAQ search failed; answering from the venue")
            decision = None
        if (
            decision is not None
            and decision.kind == "answer"
            and self.live_topic not in decision.hits[0].faq.tags
        ):
            return faq.answer(decision, dispatcher, tracker)
        if decision is not None and not self.about_the_venue(
            tracker.latest_message.get("text") or ""
        ):
            return faq.answer(decision, dispatcher, tracker)
        try:
            return self.reply(decision, dispatcher, tracker)
        except Exception:
            logger.exception("The venue data could not be used")
            dispatcher.utter_message(
                text="Sorry, I can't look that up right now. The crew at reception can help."
            )
            return []


class ActionWhatsOn(VenueAction):
    """Say what is on now and next, with the way there from a kiosk."""

    live_topic = "programme"

    def name(self) -> str:
        return "action_whats_on"

    def about_the_venue(self, text: str) -> bool:
        return PROGRAMME_WORDS.search(text) is not None

    def reply(
        self, decision: Decision | None, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[EventType]:
        venue = self.venue
        text = tracker.latest_message.get("text") or ""
        for message in whats_on_messages(venue, self.now(), text, kiosk_place(venue, tracker)):
            dispatcher.utter_message(text=message)
        return []


class ActionDirections(VenueAction):
    """Give the way to a cabin or place from the kiosk; an unknown one gets the information desk."""

    live_topic = "directions"

    def name(self) -> str:
        return "action_directions"

    def about_the_venue(self, text: str) -> bool:
        if WAY_WORDS.search(text):
            return True
        wanted = destination(self.venue, text)
        return wanted.place is not None or wanted.cabin is not None

    def reply(
        self, decision: Decision | None, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[EventType]:
        venue = self.venue
        text = tracker.latest_message.get("text") or ""
        here = kiosk_place(venue, tracker)
        wanted = destination(venue, text)
        desk = venue.places[nearest_staffed(venue, here.id) if here else venue.information_desk]
        if wanted.cabin is not None and wanted.place is None:
            unknown = f"I don't know a cabin {wanted.cabin} on this ship."
            dispatcher.utter_message(text=f"{unknown} {desk_text(venue, here, desk)}")
        elif wanted.place is not None:
            message = way_from(venue, here, wanted.place)
            if wanted.cabin is not None:
                message += f"\nCabin {wanted.cabin} is along this corridor: {venue.cabin_sides}."
            dispatcher.utter_message(text=message)
        elif decision is not None and decision.kind != "none":
            # No place named: a question after all ("how much to hold the cabin?").
            return self.faq.answer(decision, dispatcher, tracker)
        else:
            dispatcher.utter_message(
                text=f"I don't know that place, sorry. {desk_text(venue, here, desk)}"
            )
        return []
