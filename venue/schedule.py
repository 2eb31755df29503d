"""What is on at a moment of the venue's local time, and what comes next."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from venue.data import DAILY, WEEKDAYS, Event, Venue

# "Tonight" starts here, local time.
EVENING = time(18, 0)
# How far ahead "what's next" looks.
LOOKAHEAD = timedelta(days=1)


def local_now(venue: Venue, fixed: datetime | None = None) -> datetime:
    """Return now in the venue's zone, or `fixed` (tests), read as local when it has no offset."""
    if fixed is None:
        return datetime.now(venue.timezone)
    return fixed if fixed.tzinfo else fixed.replace(tzinfo=venue.timezone)


@dataclass(frozen=True)
class Showing:
    """One event on one day: its local start and end."""

    event: Event
    start: datetime
    end: datetime


def happens_on(event: Event, day: date) -> bool:
    """Tell whether an event is on the programme of `day`."""
    return event.day in (DAILY, WEEKDAYS[day.weekday()], day.isoformat())


def showings(venue: Venue, day: date) -> list[Showing]:
    """Return the events starting on `day`, in order; an end at or before the start is next day."""
    shown = []
    for event in venue.events:
        if happens_on(event, day):
            start = datetime.combine(day, event.start, venue.timezone)
            end = datetime.combine(day, event.end, venue.timezone)
            if end <= start:
                end += timedelta(days=1)
            shown.append(Showing(event, start, end))
    return sorted(shown, key=lambda showing: (showing.start, showing.event.title))


@dataclass(frozen=True)
class Programme:
    """What is on now, and what comes next after now (the events that start first)."""

    now: list[Showing]
    next: list[Showing]


def programme(
    venue: Venue, now: datetime, place: str | None = None, tonight: bool = False
) -> Programme:
    """Return what is on at `now` and what comes next, at one place or everywhere.

    `tonight` lists every event still to start this evening instead of only the next.
    """
    local = now.astimezone(venue.timezone)
    today = local.date()
    candidates = [
        showing
        for day in (today - timedelta(days=1), today, today + timedelta(days=1))
        for showing in showings(venue, day)
        if place is None or showing.event.place == place
    ]
    running = [showing for showing in candidates if showing.start <= local < showing.end]
    upcoming = [showing for showing in candidates if local < showing.start <= local + LOOKAHEAD]
    if tonight:
        evening_start = datetime.combine(today, EVENING, venue.timezone)
        evening_end = datetime.combine(today + timedelta(days=1), time(4, 0), venue.timezone)
        later = [s for s in upcoming if evening_start <= s.start < evening_end]
        if later:
            return Programme(running, later)
    first = upcoming[0].start if upcoming else None
    return Programme(running, [showing for showing in upcoming if showing.start == first])
