"""The venue data: loaded and checked, routes over its connections, the programme at a time."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest

from scripts.stack import REPO_ROOT
from venue.__main__ import main as venue_cli
from venue.data import Venue, VenueError, load_venue
from venue.routes import nearest_staffed, steps
from venue.schedule import programme

VENUE_DIR = REPO_ROOT / "data" / "venue"


@pytest.fixture(scope="module")
def ship() -> Venue:
    return load_venue(VENUE_DIR)


def at(ship: Venue, when: str) -> datetime:
    """Return a local time on the ship (a Tuesday: 2026-12-01)."""
    return datetime.fromisoformat(when).replace(tzinfo=ship.timezone)


def titles(showings: list) -> list[str]:
    return [showing.event.title for showing in showings]


def test_the_demo_ship_loads_and_the_cli_says_it_is_fine(ship: Venue, capsys):
    assert ship.places["reception"].staffed
    assert venue_cli(["check", str(VENUE_DIR)]) == 0
    assert "OK" in capsys.readouterr().out


def test_the_route_to_a_cabin_on_another_deck_takes_the_lift(ship: Venue):
    corridor = ship.cabin_corridor(305)
    assert corridor is not None and corridor.deck == 3
    assert steps(ship, "reception", corridor.id) == [
        "Go to the midship lift beside Reception.",
        "Take the midship lift up to deck 3.",
        "Step into the suite corridor beside the lift.",
    ]
    assert ship.cabin_corridor(999) is None


def test_the_sun_deck_is_reached_by_the_aft_staircase(ship: Venue):
    route = steps(ship, "lounge", "sun_deck")
    assert "Take the aft staircase up to deck 4 (it has a stair lift)." in route
    assert route[-1] == "Step out onto the Sun Deck."
    assert steps(ship, "lounge", "lounge") == []


def test_the_nearest_staffed_desk_to_the_lounge_is_reception(ship: Venue):
    assert nearest_staffed(ship, "lounge") == "reception"


def test_what_is_on_now_and_next(ship: Venue):
    evening = programme(ship, at(ship, "2026-12-01T21:45"))
    assert titles(evening.now) == ["Live music with the Lumen Trio"]
    assert titles(evening.next) == ["Late-night piano"]


def test_an_event_past_midnight_is_still_on_after_midnight(ship: Venue):
    late = programme(ship, at(ship, "2026-12-02T00:10"))
    assert titles(late.now) == ["Late-night piano"]
    assert titles(late.next) == ["Early-riser coffee"]


def test_nothing_on_says_what_comes_next_at_that_place(ship: Venue):
    quiet = programme(ship, at(ship, "2026-12-01T14:30"), place="lounge")
    assert quiet.now == []
    assert titles(quiet.next) == ["Afternoon tea"]


def test_tonight_lists_the_evening_still_to_come(ship: Venue):
    afternoon = programme(ship, at(ship, "2026-12-01T17:30"), tonight=True)
    assert titles(afternoon.next) == [
        "Port talk",
        "Dinner",
        "Live music with the Lumen Trio",
        "Late-night piano",
    ]


def test_weekday_and_dated_events_only_on_their_day(ship: Venue):
    friday = programme(ship, at(ship, "2026-12-04T19:30"), place="restaurant")
    assert "Captain's Dinner" in titles(friday.now)
    tuesday = programme(ship, at(ship, "2026-12-01T19:30"), place="restaurant")
    assert titles(tuesday.now) == ["Dinner"]


def test_the_time_is_the_ships_whatever_the_clock_zone(ship: Venue):
    utc = datetime.fromisoformat("2026-12-01T20:45+00:00")  # 21:45 in Vienna
    assert titles(programme(ship, utc).now) == ["Live music with the Lumen Trio"]


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        (
            "places.yml",
            "zone: aft, aliases: [medical",
            "zone: stern, aliases: [medical",
            "place medical_centre: zone 'stern'",
        ),
        (
            "schedule.yml",
            'start: "18:30"',
            'start: "6.30pm"',
            "event #10 (Port talk): `start` must be HH:MM",
        ),
        ("schedule.yml", "place: library", "place: casino", "no place with id 'casino'"),
        (
            "connections.yml",
            "between: [stairs_aft_4, sun_deck]",
            "between: [stairs_aft_4]",
            "corridors #15: `between` must name two places",
        ),
        ("venue.yml", "Europe/Vienna", "Europe/Atlantis", "unknown timezone 'Europe/Atlantis'"),
    ],
)
def test_a_mistake_is_named_by_file_and_entry(tmp_path: Path, file, old, new, message):
    shutil.copytree(VENUE_DIR, tmp_path, dirs_exist_ok=True)
    path = tmp_path / file
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new))
    with pytest.raises(VenueError) as raised:
        load_venue(tmp_path)
    assert str(path) in str(raised.value)
    assert message in str(raised.value)


def test_a_place_nobody_can_reach_fails_the_check(tmp_path: Path, capsys):
    shutil.copytree(VENUE_DIR, tmp_path, dirs_exist_ok=True)
    connections = tmp_path / "connections.yml"
    kept = [
        line for line in connections.read_text().splitlines(keepends=True) if "library" not in line
    ]
    connections.write_text("".join(kept))
    assert venue_cli(["check", str(tmp_path)]) == 1
    assert "no way from reception to library" in capsys.readouterr().err
