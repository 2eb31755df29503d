"""Settings: from the environment (entry points load .env into it), business hours, team routes."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from handoff_server.db import resolve_url
from handoff_server.settings import REPO_ROOT, BusinessHours, load_env_file, load_settings


def test_defaults(monkeypatch):
    for name in ("RASA_URL", "HANDOFF_PORT", "BUSINESS_HOURS", "TEAM_ROUTES", "PUBLIC_RASA_URL"):
        monkeypatch.setenv(name, "")

    settings = load_settings()

    assert settings.rasa_url == "http://127.0.0.1:5005"
    assert settings.port == 8000
    assert settings.business_hours.is_open()
    assert settings.team_for(["refunds"]) == "general"
    assert settings.public_rasa_url == "http://localhost:5005"


def test_environment_wins_and_overrides_win_over_it(monkeypatch):
    monkeypatch.setenv("HANDOFF_PORT", "9001")
    monkeypatch.setenv("RASA_URL", "http://rasa:5005/")

    settings = load_settings({"RASA_URL": "http://other:5005"})

    assert settings.port == 9001
    assert settings.rasa_url == "http://other:5005"


def test_settings_read_the_environment_only_and_an_entry_point_loads_env_into_it(
    tmp_path, monkeypatch
):
    env_file = tmp_path / ".env"
    env_file.write_text("HANDOFF_PORT=9100\nRASA_URL=http://from-the-file:5005\n")
    environment = {key: value for key, value in os.environ.items() if key != "HANDOFF_PORT"}
    monkeypatch.setattr(os, "environ", {**environment, "RASA_URL": "http://real:5005"})

    assert load_settings().port == 8000  # a .env nobody loaded is not read
    load_env_file(env_file)
    settings = load_settings()

    assert settings.port == 9100
    assert settings.rasa_url == "http://real:5005"  # real variables win over the file


def test_testing_turns_the_outbox_worker_off_unless_asked():
    assert load_settings({"TESTING": True}).outbox_worker is False
    assert load_settings({"TESTING": True, "OUTBOX_WORKER": "true"}).outbox_worker is True


def test_team_routes_pick_the_first_routed_tag():
    settings = load_settings({"TEAM_ROUTES": "refunds=billing shipping=logistics"})

    assert settings.team_for(["faq", "shipping", "refunds"]) == "logistics"
    assert settings.team_for([]) == "general"
    assert settings.teams == ["billing", "general", "logistics"]
    with pytest.raises(ValueError, match="tag=team"):
        load_settings({"TEAM_ROUTES": "refunds"})


def test_relative_sqlite_paths_are_relative_to_the_repository():
    assert resolve_url("sqlite:///var/handoff.db").database == str(REPO_ROOT / "var/handoff.db")
    assert resolve_url("sqlite:////tmp/x.db").database == "/tmp/x.db"
    assert resolve_url("postgresql://u@h/db").drivername == "postgresql+psycopg"


def test_business_hours_open_and_close_in_their_time_zone():
    hours = BusinessHours.parse("mon-fri 09:00-17:00, sat 10:00-14:00", "Europe/Madrid")

    # 2025-11-24 is a Monday; Madrid is UTC+1 in November.
    assert hours.is_open(datetime(2025, 11, 24, 8, 0, tzinfo=UTC))
    assert not hours.is_open(datetime(2025, 11, 24, 7, 59, tzinfo=UTC))
    assert not hours.is_open(datetime(2025, 11, 24, 16, 0, tzinfo=UTC))
    assert hours.is_open(datetime(2025, 11, 29, 12, 0, tzinfo=UTC))
    assert not hours.is_open(datetime(2025, 11, 30, 12, 0, tzinfo=UTC))


@pytest.mark.parametrize(
    ("spec", "timezone", "message"),
    [
        ("weekdays", "UTC", "cannot read"),
        ("mon-fun 09:00-17:00", "UTC", "unknown day"),
        ("mon 17:00-09:00", "UTC", "closes before it opens"),
        ("always", "Mars/Olympus", "unknown time zone"),
    ],
)
def test_unreadable_business_hours_are_refused(spec, timezone, message):
    with pytest.raises(ValueError, match=message):
        BusinessHours.parse(spec, timezone)


def test_the_access_log_is_on_unless_turned_off():
    assert load_settings({"HANDOFF_ACCESS_LOG": ""}).access_log is True
    assert load_settings({"HANDOFF_ACCESS_LOG": "false"}).access_log is False


def test_the_faq_data_dir_is_relative_to_the_repository_like_the_engine_s():
    assert load_settings({"FAQ_DATA_DIR": ""}).faq_data_dir == REPO_ROOT / "data" / "faq"
    assert load_settings({"FAQ_DATA_DIR": "tests/faq/kb"}).faq_data_dir == (
        REPO_ROOT / "tests" / "faq" / "kb"
    )
    assert load_settings({"FAQ_DATA_DIR": "/srv/faq"}).faq_data_dir.as_posix() == "/srv/faq"


def test_a_write_waits_a_few_seconds_for_the_database_unless_configured(monkeypatch):
    monkeypatch.setenv("DB_LOCK_TIMEOUT_S", "")

    assert load_settings().db_lock_timeout_s == 3.0
    assert load_settings({"DB_LOCK_TIMEOUT_S": "1.5"}).db_lock_timeout_s == 1.5


def test_workers_and_event_bus_default_to_one_process_and_refuse_what_cannot_work():
    defaults = load_settings({"HANDOFF_WORKERS": "", "EVENT_BUS_URL": ""})
    scaled = load_settings({"HANDOFF_WORKERS": "4", "EVENT_BUS_URL": "redis://cache:6379/2"})

    assert (defaults.handoff_workers, defaults.event_bus_url) == (1, "")
    assert (scaled.handoff_workers, scaled.event_bus_url) == (4, "redis://cache:6379/2")
    with pytest.raises(ValueError, match="HANDOFF_WORKERS: at least 1"):
        load_settings({"HANDOFF_WORKERS": "0"})
    with pytest.raises(ValueError, match="EVENT_BUS_URL: expected redis://"):
        load_settings({"EVENT_BUS_URL": "http://cache:6379"})
