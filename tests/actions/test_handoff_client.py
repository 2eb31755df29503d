"""The handoff client when the handoff server's database is busy: 503 with Retry-After."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from actions.handoff_client import HandoffClient, HandoffUnavailable
from actions.settings import ActionSettings

ACTION_TIMEOUT_S = 5.0
RETRY_AFTER_S = 1


class BusyHandoffServer(ThreadingHTTPServer):
    """Answer the first `busy_answers` posts 503 with Retry-After (storing nothing), then store."""

    def __init__(self, busy_answers: int) -> None:
        super().__init__(("127.0.0.1", 0), BusyHandler)
        self.busy_answers = busy_answers
        self.stored: list[dict[str, Any]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class BusyHandler(BaseHTTPRequestHandler):
    server: BusyHandoffServer

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.server.busy_answers > 0:
            self.server.busy_answers -= 1
            self.answer(503, {"error": "busy", "message": "try again"}, RETRY_AFTER_S)
            return
        self.server.stored.append(body)
        self.answer(201, {"id": len(self.server.stored)})

    def answer(
        self, status: int, payload: dict[str, Any], retry_after_s: int | None = None
    ) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if retry_after_s is not None:
            self.send_header("Retry-After", str(retry_after_s))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_: Any) -> None:
        pass


class FakeClock:
    """Time that passes only when the client waits."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


def serving(busy_answers: int) -> Iterator[BusyHandoffServer]:
    server = BusyHandoffServer(busy_answers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def busy_twice() -> Iterator[BusyHandoffServer]:
    yield from serving(busy_answers=2)


@pytest.fixture
def busy_for_good() -> Iterator[BusyHandoffServer]:
    yield from serving(busy_answers=1_000)


def client_of(server: BusyHandoffServer, clock: FakeClock) -> HandoffClient:
    settings = ActionSettings(
        handoff_url=server.url, handoff_service_token="", action_timeout_s=ACTION_TIMEOUT_S
    )
    return HandoffClient(settings, clock=lambda: clock.now, sleep=clock.sleep)


def test_a_customer_message_refused_while_the_database_is_busy_arrives_once(busy_twice):
    clock = FakeClock()

    client_of(busy_twice, clock).forward_customer_message(7, "Where is my refund?", "message-1")

    assert busy_twice.stored == [
        {"text": "Where is my refund?", "idempotency_key": "message-1", "faq_hits": None}
    ]
    assert clock.waits == [RETRY_AFTER_S, RETRY_AFTER_S]


def test_every_post_to_the_team_is_retried_after_a_busy_answer(busy_twice):
    clock = FakeClock()

    client_of(busy_twice, clock).rate(7, 5)

    assert busy_twice.stored == [{"rating": 5}]


def test_a_database_busy_for_longer_than_rasa_waits_is_given_up_in_time(busy_for_good):
    clock = FakeClock()

    with pytest.raises(HandoffUnavailable, match="503"):
        client_of(busy_for_good, clock).forward_customer_message(7, "Hello?", "message-2")

    # The action still answers Rasa before Rasa gives up on it.
    assert clock.waits and clock.now < ACTION_TIMEOUT_S
    assert busy_for_good.stored == []
