"""Pushes to customers through Rasa: delivered once, in order, retried until Rasa takes them."""

from __future__ import annotations

import json
import socket
import threading
import time
from contextlib import suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
import sqlalchemy as sa

from handoff_server.db import outbox
from handoff_server.outbox import LEASE_S, push_id
from handoff_server.rasa_client import RasaBusy, RasaClient, RasaUnavailable


@pytest.fixture
def assigned(client, hand_off, agent_headers, services):
    """A conversation claimed by alice, whose joined push Rasa has taken."""
    conversation = hand_off("conv-1")
    client.post(f"/api/conversations/{conversation['id']}/claim", headers=agent_headers("alice"))
    services.outbox.deliver_due()
    return conversation


def _statuses(services):
    with services.db.read() as conn:
        return conn.execute(
            sa.select(outbox.c.intent, outbox.c.status, outbox.c.attempts).order_by(outbox.c.id)
        ).all()


def test_failed_push_is_retried_and_delivered_exactly_once(
    client, assigned, agent_headers, rasa, services
):
    rasa.failures = 1

    response = client.post(
        f"/api/conversations/{assigned['id']}/messages",
        json={"text": "Are you there?"},
        headers=agent_headers("alice"),
    )

    # The agent's message is stored even though Rasa refused the push.
    assert response.status_code == 201
    assert services.outbox.deliver_due() == 0
    assert rasa.intents("conv-1") == ["EXTERNAL_agent_joined"]
    assert _statuses(services)[-1] == ("EXTERNAL_agent_message", "pending", 1)

    # Not yet due: the retry waits for its backoff.
    assert services.outbox.deliver_due() == 0
    assert services.outbox.deliver_due(now=time.time() + 5) == 1
    assert services.outbox.deliver_due(now=time.time() + 60) == 0

    assert rasa.intents("conv-1") == ["EXTERNAL_agent_joined", "EXTERNAL_agent_message"]
    assert _statuses(services)[-1] == ("EXTERNAL_agent_message", "delivered", 1)


def test_later_pushes_wait_behind_a_failed_one(client, assigned, agent_headers, rasa, services):
    path = f"/api/conversations/{assigned['id']}/messages"
    alice = agent_headers("alice")
    rasa.failures = 1
    client.post(path, json={"text": "first"}, headers=alice)
    client.post(path, json={"text": "second"}, headers=alice)
    services.outbox.deliver_due()

    assert [call[2].get("agent_message") for call in rasa.calls] == [None]

    services.outbox.deliver_due(now=time.time() + 5)

    sent = [entities["agent_message"] for _, intent, entities in rasa.calls if "message" in intent]
    assert sent == ["first", "second"]


def test_a_stale_queue_update_is_superseded_not_delivered(
    client, hand_off, agent_headers, rasa, services
):
    first = hand_off("conv-1")
    second = hand_off("conv-2")
    hand_off("conv-3")
    alice = agent_headers("alice")
    # conv-3 should hear "position 2"; Rasa is down.
    client.post(f"/api/conversations/{first['id']}/claim", headers=alice)
    rasa.failures = 100
    services.outbox.deliver_due()
    rasa.failures = 0
    # Then "position 1", which makes "position 2" stale.
    client.post(f"/api/conversations/{second['id']}/claim", headers=alice)
    services.outbox.deliver_due(now=time.time() + 60)

    to_conv3 = [entities for sender, _, entities in rasa.calls if sender == "conv-3"]
    assert to_conv3 == [{"queue_position": 1, "expected_wait_s": 120}]


def test_a_refused_push_is_retried_after_one_second_then_after_two(client, service, rasa, services):
    for sender, reason in (("a", "customer_request"), ("b", "sensitive_topic")):
        client.post(
            "/api/handoffs",
            json={"sender_id": sender, "channel": "web", "reason": reason},
            headers=service,
        )
    # "b" went ahead of "a": "a" is told its new place, but Rasa refuses twice.
    rasa.failures = 2
    start = time.time()

    # The delivery passes run at the times given: no sleeping, no thread.
    assert services.outbox.deliver_due(now=start) == 0
    assert (services.outbox.deliver_due(now=start + 0.99), rasa.failures) == (0, 1)
    assert (services.outbox.deliver_due(now=start + 1), rasa.failures) == (0, 0)
    assert services.outbox.deliver_due(now=start + 2.99) == 0
    assert services.outbox.deliver_due(now=start + 3) == 1

    assert rasa.calls == [
        ("a", "EXTERNAL_queue_update", {"queue_position": 2, "expected_wait_s": 240})
    ]
    assert _statuses(services)[-1] == ("EXTERNAL_queue_update", "delivered", 2)


def test_a_push_rasa_answers_late_is_confirmed_a_second_later_not_after_a_growing_backoff(
    client, assigned, agent_headers, rasa, services
):
    # A busy Rasa takes each push and finishes its turn (bot.pushes), but answers after the
    # client's read timeout, several times in a row.
    rasa.late_answers = 4
    client.post(
        f"/api/conversations/{assigned['id']}/messages",
        json={"text": "Your refund is on its way."},
        headers=agent_headers("alice"),
    )
    start = time.time()

    for late in range(4):
        assert services.outbox.deliver_due(now=start + late) == 0
    assert services.outbox.deliver_due(now=start + 4) == 1

    # The customer saw it once, at once; its record says delivered, with no refusal counted.
    assert rasa.intents("conv-1") == ["EXTERNAL_agent_joined", "EXTERNAL_agent_message"]
    assert _statuses(services)[-1] == ("EXTERNAL_agent_message", "delivered", 0)


class _RecordingRasa(BaseHTTPRequestHandler):
    requests: ClassVar[list[tuple[str, dict]]] = []
    status = 200

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append((self.path, body))
        self.send_response(type(self).status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_rasa_server():
    """A local HTTP server that records what RasaClient sends."""
    _RecordingRasa.requests = []
    _RecordingRasa.status = 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RecordingRasa)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_rasa_client_calls_trigger_intent_on_the_latest_channel(fake_rasa_server):
    client = RasaClient(fake_rasa_server, "rasa-token")

    client.trigger_intent(
        "conv/1", "EXTERNAL_agent_message", {"agent_message": "Hi", "agent_name": "Alice"}, "7-1"
    )

    assert _RecordingRasa.requests == [
        (
            "/conversations/conv%2F1/trigger_intent?output_channel=latest&token=rasa-token",
            {
                "name": "EXTERNAL_agent_message",
                "entities": {"agent_message": "Hi", "agent_name": "Alice", "push_id": "7-1"},
            },
        )
    ]


def test_rasa_client_reports_refusals_and_unreachable_rasa(fake_rasa_server):
    _RecordingRasa.status = 500

    with pytest.raises(RasaUnavailable, match="HTTP 500"):
        RasaClient(fake_rasa_server).trigger_intent("c", "EXTERNAL_queue_update", {}, "1-1")
    with pytest.raises(RasaUnavailable) as unreachable:
        RasaClient("http://127.0.0.1:9", "rasa-token", timeout=(0.5, 0.5)).trigger_intent(
            "c", "X", {}, "1-1"
        )
    # The message ends up in logs and in the outbox table: it must not carry the API token.
    assert "rasa-token" not in str(unreachable.value)
    assert "<token>" in str(unreachable.value)


def test_rasa_client_tells_a_late_answer_from_a_refusal():
    # A server that accepts the connection and never answers, as a saturated Rasa does.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        with pytest.raises(RasaBusy):
            RasaClient(url, timeout=(0.5, 0.2)).trigger_intent("c", "X", {}, "1-1")


def test_rasa_client_counts_a_connection_not_taken_in_time_as_busy():
    # A server whose backlog is full, as a saturated Rasa's: the kernel drops new connections.
    with socket.socket() as full:
        full.bind(("127.0.0.1", 0))
        full.listen(0)
        address = full.getsockname()
        waiting: list[socket.socket] = []
        with suppress(TimeoutError):
            while len(waiting) < 8:
                waiting.append(socket.create_connection(address, timeout=0.3))
        try:
            with pytest.raises(RasaBusy, match="timed out"):
                RasaClient(f"http://127.0.0.1:{address[1]}", timeout=(0.3, 0.3)).trigger_intent(
                    "c", "X", {}, "1-1"
                )
        finally:
            for connection in waiting:
                connection.close()


def test_a_handoff_overtaking_many_answers_before_their_pushes_which_go_once_each(
    client, hand_off, service, packet, rasa, services
):
    for number in range(30):
        hand_off(f"waiting-{number}", reason="repeated_misses")

    response = client.post(
        "/api/handoffs", json=packet("urgent", reason="sensitive_topic"), headers=service
    )

    # None of the 30 moved customers is told before the answer...
    assert response.status_code == 201
    assert response.json["position"] == 1
    assert rasa.calls == []
    # ...and each hears their new place exactly once, however many passes run.
    assert services.outbox.deliver_due() == 30
    assert services.outbox.deliver_due() == 0
    assert sorted(rasa.calls) == sorted(
        (
            f"waiting-{number}",
            "EXTERNAL_queue_update",
            {"queue_position": number + 2, "expected_wait_s": 120 * (number + 2)},
        )
        for number in range(30)
    )
    assert {status for _, status, _ in _statuses(services)} == {"delivered"}


def test_a_customer_whose_delivery_hangs_holds_up_no_other(
    client, assigned, agent_headers, hand_off, rasa, services
):
    bob = agent_headers("bob")
    hanging = hand_off("hanging")
    client.post(f"/api/conversations/{hanging['id']}/claim", headers=bob)
    services.outbox.deliver_due()
    client.post(f"/api/conversations/{hanging['id']}/messages", json={"text": "1"}, headers=bob)
    client.post(
        f"/api/conversations/{assigned['id']}/messages",
        json={"text": "Still checking"},
        headers=agent_headers("alice"),
    )
    release, delivered = threading.Event(), threading.Event()
    accept = rasa.trigger_intent

    def hang_for_one_customer(conversation_id, intent, entities, push_id):
        if conversation_id == "hanging":
            release.wait(timeout=10)
        accept(conversation_id, intent, entities, push_id)
        delivered.set()

    rasa.trigger_intent = hang_for_one_customer
    passing = threading.Thread(target=services.outbox.deliver_due)
    passing.start()

    reached = delivered.wait(timeout=10)
    hung = passing.is_alive()
    release.set()
    passing.join(timeout=10)

    assert reached and hung
    assert rasa.calls[-2][:2] == ("conv-1", "EXTERNAL_agent_message")
    assert rasa.calls[-1][:2] == ("hanging", "EXTERNAL_agent_message")


def test_an_agent_message_is_stored_and_answered_while_rasa_hangs(
    client, assigned, agent_headers, rasa, services
):
    hang = threading.Event()
    rasa.trigger_intent = lambda *push: hang.wait(timeout=10)

    response = client.post(
        f"/api/conversations/{assigned['id']}/messages",
        json={"text": "One moment"},
        headers=agent_headers("alice"),
    )

    # Answered at once, not after Rasa's timeout; the outbox delivers it when Rasa is back.
    assert response.status_code == 201
    assert not hang.is_set()
    assert _statuses(services)[-1] == ("EXTERNAL_agent_message", "pending", 0)
    hang.set()


def test_a_push_whose_deliverer_died_is_taken_back_within_seconds_and_seen_once(
    client, assigned, agent_headers, rasa, services
):
    path = f"/api/conversations/{assigned['id']}/messages"
    alice = agent_headers("alice")
    for text in ("first", "second", "third"):
        client.post(path, json={"text": text}, headers=alice)
    start = time.time()
    # A deliverer leased "first", Rasa took it, and the deliverer was killed before recording.
    with services.db.engine.begin() as conn:
        first = conn.execute(
            sa.select(outbox).where(outbox.c.status == "pending").order_by(outbox.c.id)
        ).first()
        conn.execute(
            outbox.update().where(outbox.c.id == first.id).values(lease_until=start + LEASE_S)
        )
    rasa.trigger_intent("conv-1", first.intent, first.entities, push_id(first))

    # While the lease holds, nothing overtakes "first"; once it lapses, all go.
    assert services.outbox.deliver_due(now=start + LEASE_S - 0.5) == 0
    assert services.outbox.deliver_due(now=start + LEASE_S + 0.5) == 3

    sent = [entities["agent_message"] for _, intent, entities in rasa.calls if "message" in intent]
    assert sent == ["first", "second", "third"]
    # Joined; "first" by the dead deliverer and again; "second"; "third".
    assert rasa.attempts == 5
    assert LEASE_S <= 10


def test_the_background_worker_delivers_as_soon_as_a_request_wakes_it(rasa, service, another_app):
    worker_app = another_app(OUTBOX_WORKER=True)
    services = worker_app.extensions["handoff"]
    # Far longer than the wait below: only the request's wake-up can explain a delivery.
    services.outbox.poll_s = 60
    delivered = threading.Event()
    accept = rasa.trigger_intent

    def accept_and_signal(conversation_id, intent, entities, push_id):
        accept(conversation_id, intent, entities, push_id)
        delivered.set()

    rasa.trigger_intent = accept_and_signal
    client = worker_app.test_client()
    for sender, reason in (("a", "customer_request"), ("b", "sensitive_topic")):
        client.post(
            "/api/handoffs",
            json={"sender_id": sender, "channel": "web", "reason": reason},
            headers=service,
        )

    # The worker is a thread, as under gunicorn: wait for its delivery, not for a poll.
    woken = delivered.wait(timeout=10)
    services.outbox.stop()
    services.db.engine.dispose()

    assert woken
    assert rasa.calls == [
        ("a", "EXTERNAL_queue_update", {"queue_position": 2, "expected_wait_s": 240})
    ]


def test_a_pass_during_another_sends_nothing_twice_or_out_of_order(
    client, assigned, agent_headers, rasa, services
):
    path = f"/api/conversations/{assigned['id']}/messages"
    alice = agent_headers("alice")
    client.post(path, json={"text": "first"}, headers=alice)
    client.post(path, json={"text": "second"}, headers=alice)
    accept = rasa.trigger_intent
    overlapping_passes: list[int] = []

    def accept_then_run_another_pass(conversation_id, intent, entities, push_id):
        accept(conversation_id, intent, entities, push_id)
        # Under gevent the background greenlet runs while a deliverer waits on Rasa.
        if not overlapping_passes:
            overlapping_passes.append(services.outbox.deliver_due())

    rasa.trigger_intent = accept_then_run_another_pass
    delivered = services.outbox.deliver_due()

    sent = [entities["agent_message"] for _, intent, entities in rasa.calls if "message" in intent]
    assert sent == ["first", "second"]
    assert (delivered, overlapping_passes) == (2, [0])
    assert rasa.attempts == 3


def test_a_push_waiting_on_a_slow_rasa_keeps_its_lease_from_other_workers(
    client, assigned, agent_headers, rasa, services, another_app
):
    services.outbox.deliver_due()  # the agent joined
    client.post(
        f"/api/conversations/{assigned['id']}/messages",
        json={"text": "One moment"},
        headers=agent_headers("alice"),
    )
    release, taken = threading.Event(), threading.Event()
    accept = rasa.trigger_intent

    def slow_first_time(conversation_id, intent, entities, push_id):
        if not taken.is_set():
            taken.set()
            release.wait(timeout=10)
        accept(conversation_id, intent, entities, push_id)

    rasa.trigger_intent = slow_first_time
    first_pass = threading.Thread(target=services.outbox.deliver_due)
    first_pass.start()
    assert taken.wait(timeout=10)
    leased_until = _lease_until(services)
    assert leased_until is not None
    # The delivery loop renews the lease while Rasa takes its time.
    services.outbox.start()
    try:
        deadline = time.monotonic() + 10
        while (_lease_until(services) or 0.0) < leased_until + 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        other_worker = another_app().extensions["handoff"].outbox
        # Past the first lease, another worker still finds the push held.
        taken_by_other = other_worker.deliver_due(now=leased_until + 0.5)
    finally:
        release.set()
        first_pass.join(timeout=10)
        services.outbox.stop()

    assert _lease_until(services) is None
    assert taken_by_other == 0
    assert [intent for _, intent, _ in rasa.calls][-1] == "EXTERNAL_agent_message"
    # Joined, then the message once.
    assert rasa.attempts == 2


def _lease_until(services) -> float | None:
    with services.db.read() as conn:
        return conn.execute(
            sa.select(outbox.c.lease_until).order_by(outbox.c.id.desc()).limit(1)
        ).scalar_one()
