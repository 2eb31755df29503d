"""Load and check data/venue: every mistake named by its file and entry.

PyYAML and the standard library only: the action server reads it at run time and
`python -m venue check` validates it at setup, without Rasa.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

ZONES = ("forward", "midship", "aft")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAILY = "daily"
CONNECTION_KINDS = ("lift", "stairs")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_CABINS = re.compile(r"^(\d+)-(\d+)$")


class VenueError(ValueError):
    """The venue data is wrong; the message names the file and the entry."""


@dataclass(frozen=True)
class Place:
    """A place guests ask about or pass through."""

    id: str
    name: str
    deck: int
    zone: str
    aliases: tuple[str, ...] = ()
    staffed: bool = False
    cabins: range | None = None

    @property
    def where(self) -> str:
        """Say where it is: "deck 2, midship"."""
        return f"deck {self.deck}, {self.zone}"


@dataclass(frozen=True)
class Link:
    """One way from a place to a neighbour, with what to tell the guest."""

    to: str
    instruction: str
    kind: str  # corridor, lift or stairs
    cost: int


@dataclass(frozen=True)
class Event:
    """A programme item on a day (daily, a weekday or a date), in local time."""

    day: str
    start: time
    end: time
    place: str
    title: str


# Compared and hashed by identity: a loaded venue is one object, cached per venue.
@dataclass(frozen=True, eq=False)
class Venue:
    """Everything data/venue says, checked."""

    name: str
    timezone: ZoneInfo
    information_desk: str
    cabin_sides: str
    places: dict[str, Place]
    links: dict[str, list[Link]] = field(default_factory=dict)
    events: tuple[Event, ...] = ()

    def cabin_corridor(self, cabin: int) -> Place | None:
        """Return the corridor along which a cabin lies, or None for an unknown cabin."""
        return next(
            (place for place in self.places.values() if place.cabins and cabin in place.cabins),
            None,
        )


def read(path: Path) -> dict[str, Any]:
    """Read one YAML mapping, or say which file is not one."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise VenueError(f"{path}: missing") from None
    except yaml.YAMLError as error:
        raise VenueError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(document, dict):
        raise VenueError(f"{path}: expected a mapping at the top")
    return document


def entries(path: Path, document: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """Return the list of mappings under `key`, or say what is wrong with it."""
    items = document.get(key)
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise VenueError(f"{path}: `{key}` must be a list of mappings")
    return items


def required(where: str, entry: dict[str, Any], key: str) -> Any:
    """Return a required field of an entry, or name the entry that lacks it."""
    value = entry.get(key)
    if value is None or value == "":
        raise VenueError(f"{where}: `{key}` is missing")
    return value


def local_time(where: str, value: Any, key: str) -> time:
    """Parse HH:MM, or name the entry whose time is not one."""
    match = _TIME.match(str(value))
    if not match:
        raise VenueError(f"{where}: `{key}` must be HH:MM, not {value!r}")
    return time(int(match[1]), int(match[2]))


def load_places(path: Path) -> dict[str, Place]:
    """Read places.yml."""
    places: dict[str, Place] = {}
    for number, entry in enumerate(entries(path, read(path), "places"), 1):
        where = f"{path}: place {entry.get('id') or f'#{number}'}"
        place_id = str(required(where, entry, "id"))
        if place_id in places:
            raise VenueError(f"{where}: the id is used twice")
        zone = required(where, entry, "zone")
        if zone not in ZONES:
            raise VenueError(f"{where}: zone {zone!r} is not one of {', '.join(ZONES)}")
        deck = required(where, entry, "deck")
        if not isinstance(deck, int):
            raise VenueError(f"{where}: deck must be a number, not {deck!r}")
        cabins = None
        if entry.get("cabins") is not None:
            match = _CABINS.match(str(entry["cabins"]))
            if not match or int(match[1]) > int(match[2]):
                raise VenueError(f"{where}: cabins must be first-last, not {entry['cabins']!r}")
            cabins = range(int(match[1]), int(match[2]) + 1)
        places[place_id] = Place(
            id=place_id,
            name=str(required(where, entry, "name")),
            deck=deck,
            zone=zone,
            aliases=tuple(str(alias) for alias in entry.get("aliases") or ()),
            staffed=bool(entry.get("staffed")),
            cabins=cabins,
        )
    return places


def known(where: str, places: dict[str, Place], place_id: Any) -> str:
    """Return a place id the places file defines, or name the entry that refers to another."""
    if place_id not in places:
        raise VenueError(f"{where}: no place with id {place_id!r} in places.yml")
    return str(place_id)


def load_links(path: Path, places: dict[str, Place]) -> dict[str, list[Link]]:
    """Read connections.yml into each place's ways to its neighbours."""
    document = read(path)
    links: dict[str, list[Link]] = {place_id: [] for place_id in places}
    for number, entry in enumerate(entries(path, document, "lifts_and_stairs"), 1):
        where = f"{path}: lifts_and_stairs #{number}"
        kind = required(where, entry, "kind")
        if kind not in CONNECTION_KINDS:
            raise VenueError(f"{where}: kind {kind!r} is not one of {', '.join(CONNECTION_KINDS)}")
        stops = [known(where, places, stop) for stop in required(where, entry, "stops")]
        instruction = str(required(where, entry, "instruction"))
        for stop in stops:
            for other in stops:
                if other != stop:
                    up = places[other].deck > places[stop].deck
                    text = instruction.format(
                        direction="up" if up else "down", deck=places[other].deck
                    )
                    # Changing decks costs more than a corridor, by the lift more than by stairs
                    # for one deck; a route changes decks once where it can.
                    floors = abs(places[other].deck - places[stop].deck)
                    cost = 3 + floors if kind == "lift" else 2 + 2 * floors
                    links[stop].append(Link(other, text, kind, cost))
    for number, entry in enumerate(entries(path, document, "corridors"), 1):
        where = f"{path}: corridors #{number}"
        between = required(where, entry, "between")
        if not isinstance(between, list) or len(between) != 2:
            raise VenueError(f"{where}: `between` must name two places")
        first, second = (known(where, places, place) for place in between)
        links[first].append(Link(second, str(required(where, entry, "instruction")), "corridor", 1))
        links[second].append(Link(first, str(required(where, entry, "back")), "corridor", 1))
    return links


def load_events(path: Path, places: dict[str, Place]) -> tuple[Event, ...]:
    """Read schedule.yml."""
    events = []
    for number, entry in enumerate(entries(path, read(path), "events"), 1):
        where = f"{path}: event #{number} ({entry.get('title') or 'no title'})"
        day = str(required(where, entry, "day")).lower()
        if day != DAILY and day not in WEEKDAYS and not _DATE.match(day):
            raise VenueError(f"{where}: day must be daily, mon ... sun or YYYY-MM-DD, not {day!r}")
        events.append(
            Event(
                day=day,
                start=local_time(where, required(where, entry, "start"), "start"),
                end=local_time(where, required(where, entry, "end"), "end"),
                place=known(where, places, required(where, entry, "place")),
                title=str(required(where, entry, "title")),
            )
        )
    return tuple(events)


def load_venue(directory: Path) -> Venue:
    """Load and check every file of a venue directory."""
    directory = Path(directory)
    path = directory / "venue.yml"
    document = read(path)
    try:
        timezone = ZoneInfo(str(required(str(path), document, "timezone")))
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise VenueError(f"{path}: unknown timezone {document.get('timezone')!r}") from error
    places = load_places(directory / "places.yml")
    venue = Venue(
        name=str(required(str(path), document, "name")),
        timezone=timezone,
        information_desk=known(
            str(path), places, required(str(path), document, "information_desk")
        ),
        cabin_sides=str(document.get("cabin_sides") or ""),
        places=places,
        links=load_links(directory / "connections.yml", places),
        events=load_events(directory / "schedule.yml", places),
    )
    if not places[venue.information_desk].staffed:
        raise VenueError(f"{path}: the information desk {venue.information_desk!r} is not staffed")
    return venue
