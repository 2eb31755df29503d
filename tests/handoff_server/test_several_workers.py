"""Several hosts of the handoff server, 4 gunicorn workers each, on one PostgreSQL and Redis.

Two gunicorn processes on different ports share the database, the secrets and the event bus,
as two hosts behind a load balancer do: an agent's console holds its stream on one while its
replies, and the action server's hand-offs, reach the other.
"""

from __future__ import annotations

import secrets
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
import redis
import requests
import sqlalchemy as sa

from handoff_server.db import make_engine, outbox
from handoff_server.outbox import AGENT_JOINED, AGENT_MESSAGE, LEASE_S, push_id
from lumen.vocabulary import PUSH_ID
from scripts.handoff_process import (
    EventStream,
    HandoffProcess,
    RasaPushes,
    postgres_schema,
    running_handoff_server,
)
from scripts.stack import free_port
from tests.handoff_server.conftest import POSTGRES_URL

WORKERS = "4"
# Far longer than any wait below: a stream that hears another host's change only at its
# keepalive fails these tests.
KEEPALIVE_S = "60"
ARRIVAL_DEADLINE_S = 10
# Redis pub/sub channels are shared by all its databases; this one is the tests' own.
EVENT_BUS_URL = "redis://127.0.0.1:6379/9"


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The settings two hosts of one deployment share: database, secrets, event bus."""
    with postgres_schema(POSTGRES_URL) as database_url:
        yield {
            "DATABASE_URL": database_url,
            "SECRET_KEY": secrets.token_urlsafe(16),
            "HANDOFF_SERVICE_TOKEN": secrets.token_urlsafe(16),
            "HANDOFF_WORKERS": WORKERS,
            "EVENT_BUS_URL": EVENT_BUS_URL,
            "SSE_KEEPALIVE_S": KEEPALIVE_S,
        }


def _post(url: str, headers: dict[str, str], body: dict[str, object]) -> dict[str, object]:
    response = requests.post(url, json=body, headers=headers, timeout=10)
    response.raise_for_status()
    return response.json()  # type: ignore[no-any-return]


def _open_stream(server: HandoffProcess, agent: dict[str, str], **headers: str) -> EventStream:
    response = requests.get(
        f"{server.url}/api/stream",
        headers={**agent, **headers},
        stream=True,
        timeout=(5, ARRIVAL_DEADLINE_S),
    )
    response.raise_for_status()
    stream = EventStream(response)
    assert stream.next_block() == ["retry: 3000"]
    return stream


def test_a_stream_on_one_host_hears_each_change_made_through_another_at_once(tmp_path, deployment):
    with ExitStack() as stack:
        rasa = stack.enter_context(RasaPushes())
        first, second = (
            stack.enter_context(
                running_handoff_server(tmp_path / name, RASA_URL=rasa.url, **deployment)
            )
            for name in ("first", "second")
        )
        agent = first.agent_headers("alice")
        stream = _open_stream(first, agent)

        conversation = second.hand_off("maria")
        queued = stream.next_event("conversation")
        conversation_url = f"{second.url}/api/conversations/{conversation['id']}"
        _post(f"{conversation_url}/claim", agent, {})
        joined = stream.next_event("message")["text"]
        replies = [f"Reply {n} from the second host." for n in range(5)]
        heard = []
        for n, text in enumerate(replies):
            _post(f"{conversation_url}/messages", agent, {"text": text, "idempotency_key": f"r{n}"})
            # Each reply reaches the first host's stream before the next is sent, and long
            # before its keepalive (60 s): the read times out after 10 s.
            heard.append(stream.next_event("message")["text"])
        resume_after = stream.last_id
        _post(f"{conversation_url}/notes", agent, {"text": "Refund promised."})
        _post(f"{first.url}/api/conversations/{conversation['id']}/resolve", agent, {})
        # A console that lost its stream resumes on the other host from the last id it saw.
        resumed = _open_stream(second, agent, **{"Last-Event-ID": str(resume_after)})
        resumed_note = resumed.next_event("note")["text"]
        resumed_state = resumed.next_event("conversation")["state"]
        first_log = first.log()

    assert queued["id"] == conversation["id"]
    assert joined == "alice joined."
    assert heard == replies
    assert (resumed_note, resumed_state) == ("Refund promised.", "resolved")
    assert "Booting worker" in first_log and first_log.count("Booting worker") == int(WORKERS)
    assert "unreachable" not in first_log


def _customer_sees(rasa: RasaPushes) -> dict[str, list[str]]:
    """Return the push ids each conversation shows, a push sent again shown once, as Rasa's
    `bot.pushes` shows it."""
    seen: dict[str, list[str]] = {}
    for sender, _, entities in list(rasa.pushes):
        if entities[PUSH_ID] not in seen.setdefault(sender, []):
            seen[sender].append(entities[PUSH_ID])
    return seen


def _until(condition, timeout_s: float, describe=lambda: "") -> float:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout_s, f"timed out {describe()}"
        time.sleep(0.05)
    return time.monotonic() - started


def _undelivered(database_url: str) -> list[tuple[object, ...]]:
    """Return the outbox rows not delivered yet, to tell why a wait timed out."""
    engine = make_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                outbox.c.id,
                outbox.c.sender_id,
                outbox.c.status,
                outbox.c.attempts,
                outbox.c.lease_until,
                outbox.c.next_attempt_at,
                outbox.c.last_error,
            ).where(outbox.c.status == "pending")
        ).all()
    engine.dispose()
    return [(*row, time.time()) for row in rows]


def _outbox(database_url: str) -> dict[str, list[tuple[str, str, str]]]:
    """Return each conversation's delivered pushes in the order they were stored:
    (push id, intent, agent message)."""
    engine = make_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(outbox).order_by(outbox.c.id)).all()
    engine.dispose()
    # A queue update overtaken by a newer one is never sent (outbox.push).
    assert {row.status for row in rows} <= {"delivered", "superseded"}
    stored: dict[str, list[tuple[str, str, str]]] = {}
    for row in rows:
        if row.status == "delivered":
            text = str(row.entities.get("agent_message", ""))
            stored.setdefault(row.sender_id, []).append((push_id(row), row.intent, text))
    return stored


def test_two_hosts_deliver_every_push_once_in_order_and_one_takes_over_from_a_dead_one(
    tmp_path, deployment
):
    customers = [f"customer-{n}" for n in range(6)]
    messages = 8
    with ExitStack() as stack:
        rasa = stack.enter_context(RasaPushes())
        rasa.answer_after_s = 0.02
        hosts = {
            name: stack.enter_context(
                running_handoff_server(tmp_path / name, RASA_URL=f"{rasa.url}/{name}", **deployment)
            )
            for name in ("east", "west")
        }
        east, west = hosts.values()
        agent = east.agent_headers("alice")

        # Both hosts' 8 outbox loops compete for every conversation's pushes.
        conversations = [
            (east, west)[n % 2].hand_off(customer) for n, customer in enumerate(customers)
        ]
        for conversation in conversations:
            _post(f"{west.url}/api/conversations/{conversation['id']}/claim", agent, {})
        for n in range(messages):
            for k, conversation in enumerate(conversations):
                host = (east, west)[(n + k) % 2]
                _post(
                    f"{host.url}/api/conversations/{conversation['id']}/messages",
                    agent,
                    {"text": f"message {n}", "idempotency_key": f"{conversation['id']}-{n}"},
                )
        _until(
            lambda: all(rasa.intents(c).count(AGENT_MESSAGE) == messages for c in customers),
            60,
            lambda: _undelivered(deployment["DATABASE_URL"]),
        )
        sent_while_competing = [entities[PUSH_ID] for _, _, entities in rasa.pushes]

        # The first push to "victim" is taken and not answered; its sender dies holding it,
        # with the conversation's later pushes waiting behind it.
        rasa.hold_sender = "victim"
        victim = east.hand_off("victim")
        _post(f"{east.url}/api/conversations/{victim['id']}/claim", agent, {})
        assert rasa.holding.wait(10)
        for n in range(messages):
            _post(
                f"{west.url}/api/conversations/{victim['id']}/messages",
                agent,
                {"text": f"message {n}", "idempotency_key": f"victim-{n}"},
            )
        hosts[rasa.held_by].kill()
        takeover_s = _until(
            lambda: len(_customer_sees(rasa).get("victim", [])) == 1 + messages,
            30,
            lambda: _undelivered(deployment["DATABASE_URL"]),
        )
        # The outbox records a delivery a moment after Rasa answered it.
        _until(
            lambda: not _undelivered(deployment["DATABASE_URL"]),
            10,
            lambda: _undelivered(deployment["DATABASE_URL"]),
        )
        stored = _outbox(deployment["DATABASE_URL"])

    seen = _customer_sees(rasa)
    for customer in [*customers, "victim"]:
        # Every push the customer sees, in the order stored, each once ...
        assert seen[customer] == [push for push, _, _ in stored[customer]]
        replies = [text for _, intent, text in stored[customer] if intent == AGENT_MESSAGE]
        assert replies == [f"message {n}" for n in range(messages)]
        assert [intent for _, intent, _ in stored[customer]].count(AGENT_JOINED) == 1
    # ... and while both hosts competed, none was even sent twice.
    assert len(sent_while_competing) == len(set(sent_while_competing))
    # After the kill, only the push the dead host held was sent again, by the survivor ...
    sent = [entities[PUSH_ID] for _, _, entities in rasa.pushes]
    again = [push for push in set(sent) if sent.count(push) > 1]
    assert again == [stored["victim"][0][0]]
    assert sent.count(again[0]) == 2
    # ... within seconds: its lease lapses, and the survivor's next pass takes it.
    assert takeover_s < LEASE_S + 3


class PrivateRedis:
    """A Redis server of one test's own, which the test may stop."""

    def __init__(self, workdir: Path) -> None:
        port = free_port()
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
            cwd=workdir,
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis(port=port)
        _until(lambda: _answers(client), 10)

    def stop(self) -> None:
        """Stop the server, as a Redis host that goes away."""
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """Start a Redis server of the test's own; stop it afterwards."""
    server = PrivateRedis(tmp_path)
    yield server
    server.stop()


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


def test_with_the_event_bus_gone_streams_still_hear_every_change_at_their_keepalive(
    tmp_path, deployment, private_redis
):
    settings = {**deployment, "EVENT_BUS_URL": private_redis.url, "SSE_KEEPALIVE_S": "2"}
    with ExitStack() as stack:
        first, second = (
            stack.enter_context(running_handoff_server(tmp_path / name, **settings))
            for name in ("first", "second")
        )
        agent = first.agent_headers("alice")
        stream = _open_stream(first, agent)
        private_redis.stop()

        handed_off = [second.hand_off(f"customer-{n}")["id"] for n in range(3)]
        heard = [stream.next_event("conversation")["id"] for _ in handed_off]
        logs = first.log() + second.log()

    assert heard == handed_off
    assert "event bus redis://127.0.0.1" in logs
    assert "unreachable: streams see other workers' changes only at their keepalive" in logs
