"""Fixtures: the handoff server on a migrated SQLite or PostgreSQL database, agents, a fake Rasa."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Any, cast

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

from handoff_server import create_app
from handoff_server.auth import issue_token
from handoff_server.db import agents, event_sequence, make_engine, metadata, migrate
from handoff_server.rasa_client import RasaBusy, RasaUnavailable
from handoff_server.services import Services
from scripts.handoff_process import postgres_schema

SECRET_KEY = "test-secret-key"
SERVICE_TOKEN = "test-service-token"
PASSWORD = "correct horse battery"
# PostgreSQL runs locally with trust auth; each test session works in a schema of its own.
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://root@127.0.0.1:5432/test")
AGENTS = (
    ("alice", "Alice Archer", "agent"),
    ("bob", "Bob Baker", "agent"),
    ("sue", "Sue Supervisor", "supervisor"),
    ("ada", "Ada Admin", "admin"),
)


class FakeRasa:
    """Record the pushes a customer sees; fail the next `failures` of them.

    Like Rasa with `bot.pushes`, it shows a push id once however often it is sent, and
    counts every attempt in `attempts`.
    """

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.push_ids: set[str] = set()
        self.attempts = 0
        self.failures = 0
        self.late_answers = 0

    def trigger_intent(
        self, sender_id: str, intent: str, entities: dict[str, Any], push_id: str
    ) -> None:
        """Accept the push, or fail it while failures are left; answer late while late ones are."""
        self.attempts += 1
        if self.failures:
            self.failures -= 1
            raise RasaUnavailable("connection refused (fake)")
        if push_id not in self.push_ids:
            self.push_ids.add(push_id)
            self.calls.append((sender_id, intent, entities))
        if self.late_answers:
            # A busy Rasa: it took the push and finishes the turn, the answer comes too late.
            self.late_answers -= 1
            raise RasaBusy("read timed out (fake)")

    def intents(self, sender_id: str) -> list[str]:
        """Return the intents pushed to one conversation, in order."""
        return [intent for sender, intent, _ in self.calls if sender == sender_id]


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Create a database for the session and build its schema by running the migrations."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'handoff.db'}"
        migrate(make_engine(url))
        yield url
        return
    with postgres_schema(POSTGRES_URL) as url:
        yield url


@pytest.fixture(scope="session")
def password_hash() -> str:
    """Hash the agents' password once: scrypt is slow on purpose."""
    return generate_password_hash(PASSWORD)


@pytest.fixture
def rasa() -> FakeRasa:
    """Stand in for Rasa's HTTP API."""
    return FakeRasa()


def build_app(database_url: str, rasa: FakeRasa, **overrides: Any) -> Flask:
    """Build an app of the test configuration on `database_url`, with `overrides`."""
    return create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": SECRET_KEY,
            "HANDOFF_SERVICE_TOKEN": SERVICE_TOKEN,
            "TEAM_ROUTES": "refunds=billing payments=billing",
            "SSE_KEEPALIVE_S": "0.05",
            "RASA_CLIENT": rasa,
            **overrides,
        }
    )


@pytest.fixture
def another_app(app: Flask, database_url: str, rasa: FakeRasa) -> Callable[..., Flask]:
    """Build more apps on the test database, as other workers or a restart would be."""
    return lambda **overrides: build_app(database_url, rasa, **overrides)


def reset_database(engine: sa.Engine, password_hash: str) -> None:
    """Empty every table, then add the four test agents."""
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
        conn.execute(event_sequence.insert().values(id=1, last_event_id=0))
        conn.execute(
            agents.insert(),
            [
                {
                    "username": username,
                    "display_name": name,
                    "password_hash": password_hash,
                    "role": role,
                    "team": "general",
                    "created_at": time.time(),
                }
                for username, name, role in AGENTS
            ],
        )


@pytest.fixture
def app(database_url: str, rasa: FakeRasa, password_hash: str) -> Iterator[Flask]:
    """Build the app on an emptied database holding the four test agents."""
    app = build_app(database_url, rasa)
    engine = app.extensions["handoff"].db.engine
    reset_database(engine, password_hash)
    yield app
    engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of the app."""
    return app.test_client()


@pytest.fixture
def services(app: Flask) -> Services:
    """The app's collaborators: settings, database, outbox."""
    return app.extensions["handoff"]  # type: ignore[no-any-return]


@pytest.fixture
def service() -> dict[str, str]:
    """Headers of the action server (the service token)."""
    return {"Authorization": f"Bearer {SERVICE_TOKEN}"}


@pytest.fixture
def agent_headers(services: Services) -> Callable[[str], dict[str, str]]:
    """Return bearer headers for a test agent, by username."""

    def headers(username: str) -> dict[str, str]:
        with services.db.read() as conn:
            agent_id = conn.execute(
                sa.select(agents.c.id).where(agents.c.username == username)
            ).scalar_one()
        return {"Authorization": f"Bearer {issue_token(SECRET_KEY, agent_id)}"}

    return headers


def _packet(sender_id: str = "conv-1", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "sender_id": sender_id,
        "channel": "web",
        "page_url": "https://shop.example/refunds",
        "kiosk_id": None,
        "kiosk_location": None,
        "locale": "en",
        "customer": {"name": "Maria Lopez", "email": "maria@example.com", "phone": None},
        "reason": "customer_request",
        "sentiment": -0.42,
        "summary": "Asked about refund timing; FAQ answer did not help; asked for a person.",
        "tags": ["shipping"],
        "transcript": [
            {
                "role": "customer",
                "text": "where is my refund",
                "timestamp": 1763800000.1,
                "intent": "ask_question",
                "confidence": 0.91,
                "sentiment": -0.3,
                "faq_hits": [{"faq_id": "refund_timeline", "score": 0.82}],
            },
            {
                "role": "bot",
                "text": "Refunds go back to your card in 5 days.",
                "timestamp": 1763800000.9,
            },
        ],
    }
    body.update(changes)
    return body


@pytest.fixture
def packet() -> Callable[..., dict[str, Any]]:
    """Build a context packet like the action server's: packet(sender_id, **changes)."""
    return _packet


@pytest.fixture
def hand_off(client: FlaskClient, service: dict[str, str]) -> Callable[..., dict[str, Any]]:
    """Post a handoff and return the created conversation."""

    def post(sender_id: str = "conv-1", **changes: Any) -> dict[str, Any]:
        body = _packet(sender_id, **changes)
        response = client.post("/api/handoffs", json=body, headers=service)
        assert response.status_code == 201, response.json
        return cast(dict[str, Any], response.json)

    return post
