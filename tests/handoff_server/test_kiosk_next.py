"""The kiosk's attract screen asks what's on next on board: the venue's schedule at "now"."""

from __future__ import annotations

from tests.handoff_server.conftest import FakeRasa, build_app


def test_next_on_board_is_the_next_event_at_the_venues_time(database_url: str, rasa: FakeRasa):
    app = build_app(database_url, rasa, VENUE_NOW="2026-12-01T21:45")
    response = app.test_client().get("/kiosk/next")
    assert response.status_code == 200
    assert response.get_json() == {
        "next": {
            "title": "Late-night piano",
            "start": "23:30",
            "place": "Lounge",
            "where": "deck 3, forward",
        }
    }


def test_a_utc_now_is_read_in_the_venues_zone(database_url: str, rasa: FakeRasa):
    # 14:30 UTC is 15:30 in Vienna: the quiz runs, afternoon tea comes next.
    app = build_app(database_url, rasa, VENUE_NOW="2026-12-01T14:30+00:00")
    assert app.test_client().get("/kiosk/next").get_json()["next"]["title"] == "Afternoon tea"
