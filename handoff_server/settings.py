"""Read the handoff server's settings from the environment, in one place."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from datetime import time as time_of_day
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# This module imports nothing beyond the standard library, so that gunicorn.conf.py can
# load it without importing Flask before gevent patches the worker. It reads the
# environment only: the entry points (`python -m handoff_server`, gunicorn.conf.py) load
# `.env` into it first, with `load_env_file`.

REPO_ROOT = Path(__file__).resolve().parent.parent
ENV_FILE = REPO_ROOT / ".env"
DEFAULT_PUBLIC_RASA_URL = "http://localhost:5005"
DEFAULT_TEAM = "general"
DEFAULT_ASSISTANT_CONFIG = "config/assistant.yml"
# How long a write waits for the database (another writer's lock) before answering 503. Keep
# it below the action server's request timeout, so it hears 503 rather than timing out.
DEFAULT_DB_LOCK_TIMEOUT_S = 3.0
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WINDOW = re.compile(
    r"^(?P<days>[a-z]{3}(?:-[a-z]{3})?)\s+(?P<opens>\d\d:\d\d)-(?P<closes>\d\d:\d\d)$"
)


@dataclass(frozen=True)
class BusinessHours:
    """Weekly opening hours in one time zone; no windows means always open."""

    windows: tuple[tuple[int, time_of_day, time_of_day], ...]
    timezone: ZoneInfo

    @classmethod
    def parse(cls, spec: str, timezone: str) -> BusinessHours:
        """Parse `always` or `mon-fri 09:00-17:00, sat 10:00-14:00` in the given time zone."""
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"BUSINESS_TIMEZONE: unknown time zone {timezone!r}") from error
        spec = spec.strip().lower()
        if spec in ("", "always"):
            return cls((), zone)
        windows: list[tuple[int, time_of_day, time_of_day]] = []
        for part in spec.split(","):
            match = _WINDOW.match(part.strip())
            if not match:
                raise ValueError(
                    f"BUSINESS_HOURS: cannot read {part.strip()!r} (e.g. mon-fri 09:00-17:00)"
                )
            first, _, last = match["days"].partition("-")
            if first not in WEEKDAYS or (last or first) not in WEEKDAYS:
                raise ValueError(f"BUSINESS_HOURS: unknown day in {match['days']!r}")
            opens = time_of_day.fromisoformat(match["opens"])
            closes = time_of_day.fromisoformat(match["closes"])
            if closes <= opens:
                raise ValueError(f"BUSINESS_HOURS: {part.strip()!r} closes before it opens")
            days = range(WEEKDAYS.index(first), WEEKDAYS.index(last or first) + 1)
            windows.extend((day, opens, closes) for day in days)
        return cls(tuple(windows), zone)

    def is_open(self, at: datetime | None = None) -> bool:
        """Tell whether agents are expected on duty at `at` (now by default)."""
        if not self.windows:
            return True
        local = (at or datetime.now(self.timezone)).astimezone(self.timezone)
        moment = local.time()
        return any(
            day == local.weekday() and opens <= moment < closes
            for day, opens, closes in self.windows
        )


@dataclass(frozen=True)
class Settings:
    """Everything the handoff server reads from its environment."""

    database_url: str
    db_lock_timeout_s: float
    secret_key: str
    service_token: str
    rasa_url: str
    rasa_api_token: str
    public_rasa_url: str
    port: int
    business_hours: BusinessHours
    team_routes: dict[str, str]
    agent_token_ttl_s: int
    testing: bool
    outbox_worker: bool
    sse_keepalive_s: float
    access_log: bool
    faq_data_dir: Path
    # The venue of the kiosks (data/venue), for the attract screen's "next on board"; a fixed
    # "now" for its schedule, for tests only (VENUE_NOW, as the action server reads it).
    venue_dir: Path
    venue_now: datetime | None
    # The business's names, greetings, colours and kiosks (handoff_server/assistant_config.py).
    assistant_config: Path
    # Failed sign-ins allowed, in Flask-Limiter's notation ("10 per 10 minutes"), and where
    # the counts live: memory:// for one process, redis://HOST:PORT when scaled out.
    sign_in_limit_per_address: str
    sign_in_limit_per_account: str
    rate_limit_storage_uri: str
    # Reverse proxies in front whose X-Forwarded-For/-Proto are believed (werkzeug's
    # ProxyFix): 1 behind the nginx of deploy/; 0 (the default) believes no header, since a
    # client reaching the server directly could name any address.
    trusted_proxies: int
    # Where answers to messages left go out by email (handoff_server/mailer.py); empty: not.
    smtp_url: str
    smtp_from: str
    # Gunicorn workers of this server (gunicorn.conf.py), and the Redis that carries each
    # one's changes to the others' event streams ("" leaves them to the keepalive poll).
    handoff_workers: int
    event_bus_url: str

    def team_for(self, tags: list[str]) -> str:
        """Route a conversation to the team of its first routed FAQ tag."""
        return next(
            (self.team_routes[tag] for tag in tags if tag in self.team_routes), DEFAULT_TEAM
        )

    @property
    def teams(self) -> list[str]:
        """List every team a conversation can be routed to."""
        return sorted({DEFAULT_TEAM, *self.team_routes.values()})


def _flag(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).strip().lower() in ("1", "true", "yes")


def _team_routes(value: Any) -> dict[str, str]:
    if isinstance(value, Mapping):
        return dict(value)
    routes = {}
    for pair in str(value).split():
        tag, separator, team = pair.partition("=")
        if not separator or not tag or not team:
            raise ValueError(f"TEAM_ROUTES: expected tag=team, got {pair!r}")
        routes[tag] = team
    return routes


def _count(name: str, value: Any, least: int) -> int:
    """Read a whole number of at least `least`; a ValueError names the variable otherwise."""
    try:
        count = int(value)
    except ValueError:
        raise ValueError(f"{name}: expected a whole number, got {value!r}") from None
    if count < least:
        raise ValueError(f"{name}: at least {least}, got {count}")
    return count


def _event_bus_url(value: Any) -> str:
    url = str(value).strip()
    if url and not url.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError(f"EVENT_BUS_URL: expected redis://host:port/db or empty, got {url!r}")
    return url


def load_env_file(path: Path = ENV_FILE) -> None:
    """Put the variables of a `.env` file into the environment; real variables win.

    For the process entry points only; `make run` passes `.env` through supervisord already.
    """
    from dotenv import load_dotenv  # imported here: gunicorn.conf.py loads this module by path

    load_dotenv(path, override=False)


def load_settings(overrides: Mapping[str, Any] | None = None) -> Settings:
    """Read settings from `overrides`, then the environment, then defaults."""
    values: dict[str, Any] = {**os.environ, **(overrides or {})}

    def get(name: str, default: str = "") -> Any:
        value = values.get(name)
        return default if value is None or value == "" else value

    testing = _flag(get("TESTING", "false"))
    return Settings(
        database_url=get("DATABASE_URL", "sqlite:///var/handoff.db"),
        db_lock_timeout_s=float(get("DB_LOCK_TIMEOUT_S", str(DEFAULT_DB_LOCK_TIMEOUT_S))),
        secret_key=get("SECRET_KEY"),
        service_token=get("HANDOFF_SERVICE_TOKEN"),
        rasa_url=get("RASA_URL", "http://127.0.0.1:5005").rstrip("/"),
        rasa_api_token=get("RASA_API_TOKEN"),
        public_rasa_url=get("PUBLIC_RASA_URL", DEFAULT_PUBLIC_RASA_URL).rstrip("/"),
        port=int(get("HANDOFF_PORT", "8000")),
        business_hours=BusinessHours.parse(
            get("BUSINESS_HOURS", "always"), get("BUSINESS_TIMEZONE", "UTC")
        ),
        team_routes=_team_routes(get("TEAM_ROUTES")),
        agent_token_ttl_s=int(get("AGENT_TOKEN_TTL_S", "43200")),
        testing=testing,
        # The delivery loop is a background thread; unit tests run delivery passes themselves.
        outbox_worker=_flag(get("OUTBOX_WORKER", str(not testing))),
        sse_keepalive_s=float(get("SSE_KEEPALIVE_S", "15")),
        access_log=_flag(get("HANDOFF_ACCESS_LOG", "true")),
        # The FAQs supervisors teach questions to; relative to the repository, as the engine's.
        faq_data_dir=REPO_ROOT / get("FAQ_DATA_DIR", "data/faq"),
        venue_dir=REPO_ROOT / get("VENUE_DIR", "data/venue"),
        venue_now=datetime.fromisoformat(get("VENUE_NOW")) if get("VENUE_NOW") else None,
        assistant_config=REPO_ROOT / get("ASSISTANT_CONFIG", DEFAULT_ASSISTANT_CONFIG),
        sign_in_limit_per_address=get("SIGN_IN_LIMIT_PER_ADDRESS", "10 per 10 minutes"),
        sign_in_limit_per_account=get("SIGN_IN_LIMIT_PER_ACCOUNT", "20 per hour"),
        rate_limit_storage_uri=get("RATE_LIMIT_STORAGE_URI", "memory://"),
        trusted_proxies=_count("TRUSTED_PROXIES", get("TRUSTED_PROXIES", "0"), least=0),
        smtp_url=get("SMTP_URL"),
        smtp_from=get("SMTP_FROM", "team@example.com"),
        handoff_workers=_count("HANDOFF_WORKERS", get("HANDOFF_WORKERS", "1"), least=1),
        event_bus_url=_event_bus_url(get("EVENT_BUS_URL")),
    )
