"""The database locked by another process: writes answer 503 in time, everything else goes on.

These tests run the real gunicorn server (one gevent worker) and hold its SQLite file locked
from a separate process, as a backup, a migration or a stuck writer would.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa

from handoff_server.db import make_engine, metadata, migrate
from handoff_server.outbox import AGENT_JOINED, AGENT_MESSAGE
from scripts.handoff_process import EventStream, RasaPushes, running_handoff_server
from scripts.sqlite_lock import held_lock
from tests.handoff_server.conftest import build_app, reset_database

LOCK_TIMEOUT_S = 5
REPLY = "Your refund left our bank this morning."


def _until(condition, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_locked_database_refuses_writes_in_time_and_serves_everything_else(tmp_path):
    with (
        RasaPushes() as rasa,
        running_handoff_server(
            tmp_path,
            RASA_URL=rasa.url,
            SSE_KEEPALIVE_S="0.2",
            DB_LOCK_TIMEOUT_S=str(LOCK_TIMEOUT_S),
        ) as server,
    ):
        agent = server.agent_headers("alice")
        conversation = server.hand_off("maria")
        conversation_url = f"{server.url}/api/conversations/{conversation['id']}"
        # Rasa is down when the agent joins: the push waits in the outbox for the loop.
        rasa.available = False
        assert requests.post(f"{conversation_url}/claim", headers=agent, timeout=10).ok
        reply = {"text": REPLY, "idempotency_key": "alice-reply-1"}
        stream_response = requests.get(
            f"{server.url}/api/stream", headers=agent, stream=True, timeout=(5, 30)
        )
        stream = EventStream(stream_response)

        with held_lock(server.database_path, max_s=30), ThreadPoolExecutor(1) as pool:
            refused_future = pool.submit(
                requests.post, f"{conversation_url}/messages", json=reply, headers=agent, timeout=30
            )
            # The stream keeps beating while the reply waits for the database ...
            stream.skip_keepalives(3)
            # ... and the health check and the agent's reads are answered meanwhile.
            health = requests.get(f"{server.url}/healthz", timeout=30)
            queue = requests.get(f"{server.url}/api/conversations", headers=agent, timeout=30)
            transcript = requests.get(conversation_url, headers=agent, timeout=30).json()
            reply_still_waiting = not refused_future.done()
            refused = refused_future.result()
            # The stream outlives the refused write.
            stream.skip_keepalives(1)
            rasa.available = True

        # Once the lock is gone, the outbox loop delivers what waited, with no request to help.
        _until(lambda: AGENT_JOINED in rasa.intents("maria"))
        retried = requests.post(
            f"{conversation_url}/messages", json=reply, headers=agent, timeout=10
        )
        retried_again = requests.post(
            f"{conversation_url}/messages", json=reply, headers=agent, timeout=10
        )
        streamed = stream.next_event("message")
        stream_response.close()

    assert reply_still_waiting
    assert health.json() == {"status": "ok"}
    assert [c["id"] for c in queue.json()["conversations"]] == [conversation["id"]]
    assert REPLY not in [message["text"] for message in transcript["transcript"]]
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == str(LOCK_TIMEOUT_S)
    assert refused.json()["error"] == "service_unavailable"
    assert "nothing was stored" in refused.json()["message"]
    assert (retried.status_code, retried_again.status_code) == (201, 200)
    assert retried_again.json()["id"] == retried.json()["id"]
    assert streamed["text"] == REPLY
    # The customer hears the agent join, then the reply, once each.
    assert rasa.intents("maria") == [AGENT_JOINED, AGENT_MESSAGE]


# The same, in process with the Flask test client: every change a client would retry.


@pytest.fixture
def app(tmp_path, rasa, password_hash):
    """The app on an SQLite file of its own, which a test can lock; it waits 0.2 s for it."""
    database_url = f"sqlite:///{tmp_path / 'handoff.db'}"
    engine = make_engine(database_url)
    migrate(engine)
    engine.dispose()
    app = build_app(database_url, rasa, DB_LOCK_TIMEOUT_S="0.2")
    reset_database(app.extensions["handoff"].db.engine, password_hash)
    yield app
    app.extensions["handoff"].db.engine.dispose()


def _stored(services) -> dict[str, list[tuple[object, ...]]]:
    with services.db.read() as conn:
        return {
            table.name: [tuple(row) for row in conn.execute(sa.select(table))]
            for table in metadata.sorted_tables
        }


@pytest.mark.parametrize(
    "caller, path, body",
    [
        ("service", "/api/handoffs", {"sender_id": "conv-3", "channel": "web"}),
        ("service", "/api/conversations/{queued}/customer-messages", {"text": "Still there?"}),
        ("alice", "/api/conversations/{assigned}/messages", {"text": "Checking now."}),
        ("bob", "/api/conversations/{queued}/claim", None),
        ("alice", "/api/conversations/{assigned}/notes", {"text": "Asked twice already."}),
        ("alice", "/api/conversations/{assigned}/resolve", None),
    ],
)
def test_a_change_the_database_cannot_take_in_time_is_a_503_that_stores_nothing(
    client, services, service, agent_headers, hand_off, tmp_path, caplog, caller, path, body
):
    queued = hand_off("conv-1")["id"]
    assigned = hand_off("conv-2")["id"]
    headers = service if caller == "service" else agent_headers(caller)
    claimed = client.post(f"/api/conversations/{assigned}/claim", headers=agent_headers("alice"))
    assert claimed.status_code == 200
    if path == "/api/handoffs":
        body = {**body, "reason": "customer_request"}
    url = path.format(queued=queued, assigned=assigned)
    before = _stored(services)

    with held_lock(tmp_path / "handoff.db"):
        refused = client.post(url, json=body, headers=headers)
        stored_meanwhile = _stored(services)
    retried = client.post(url, json=body, headers=headers)

    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "1"
    assert refused.json == {
        "error": "service_unavailable",
        "message": "the database is busy and nothing was stored: try again in 1 s",
    }
    assert stored_meanwhile == before
    assert f"POST {url} answered 503: the database is busy" in caplog.text
    assert retried.status_code in (200, 201)


def test_agents_are_served_while_the_database_is_locked_and_marked_on_duty_after(
    client, agent_headers, hand_off, tmp_path
):
    queued = hand_off("conv-1")["id"]
    # Alice has not been seen yet: her first request would record that she is on duty.
    alice = agent_headers("alice")

    with held_lock(tmp_path / "handoff.db"):
        listed = client.get("/api/conversations", headers=alice)
    agents = client.get("/api/agents", headers=alice)

    assert listed.status_code == 200
    assert [conversation["id"] for conversation in listed.json["conversations"]] == [queued]
    assert {agent["username"]: agent["on_duty"] for agent in agents.json["agents"]}["alice"]


def test_a_delivery_pass_during_the_lock_gives_up_in_time_and_the_next_one_delivers(
    client, services, rasa, agent_headers, hand_off, tmp_path
):
    conversation = hand_off("conv-1")
    claimed = client.post(
        f"/api/conversations/{conversation['id']}/claim", headers=agent_headers("alice")
    )

    # The "joined" push waits in the outbox: a pass during the lock gives up on it in time.
    with held_lock(tmp_path / "handoff.db"):
        delivered_during = services.outbox.deliver_due()
    delivered_after = services.outbox.deliver_due()

    assert claimed.status_code == 200
    assert (delivered_during, delivered_after) == (0, 1)
    assert rasa.intents("conv-1") == [AGENT_JOINED]
