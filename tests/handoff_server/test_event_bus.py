"""The event bus: one process's commit wakes another's streams; a missing Redis costs nothing."""

from __future__ import annotations

import logging
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest

from handoff_server.db import ChangeSignal
from handoff_server.event_bus import RedisEventBus
from handoff_server.settings import REPO_ROOT
from scripts.stack import free_port

REDIS_URL = "redis://127.0.0.1:6379/9"


@pytest.fixture
def buses() -> Iterator[list[RedisEventBus]]:
    """Two processes' buses on a channel of this test's own, both listening."""
    channel = f"test-{uuid.uuid4().hex}"
    started = [RedisEventBus(REDIS_URL, ChangeSignal(), channel) for _ in range(2)]
    for bus in started:
        bus.start()
        assert bus.listening.wait(5)
    yield started
    for bus in started:
        bus.stop()


def test_a_commit_announced_in_one_process_wakes_the_streams_of_another(buses):
    writer, reader = (bus.signal for bus in buses)
    seen = reader.generation

    writer.announce()
    reader.wait(seen, timeout=10)

    assert reader.generation > seen


def test_without_redis_commits_go_on_and_the_log_says_streams_fall_back(caplog):
    signal = ChangeSignal()
    bus = RedisEventBus(f"redis://127.0.0.1:{free_port()}/0", signal)
    with caplog.at_level(logging.ERROR, logger="handoff_server.event_bus"):
        bus.start()
        signal.announce()
        bus.listening.wait(1)
    bus.stop()

    assert signal.generation == 1
    assert not bus.listening.is_set()
    assert "unreachable: streams see other workers' changes only at their keepalive" in caplog.text


# Run in a process of its own: gevent patches the standard library, as gunicorn's worker does.
WAITS_AS_A_GREENLET = """
from gevent import monkey
monkey.patch_all()
import sys, time, gevent
from handoff_server.db import ChangeSignal
from handoff_server.event_bus import LISTEN_S, RedisEventBus
bus = RedisEventBus(sys.argv[1], ChangeSignal(), sys.argv[2])
bus.start()
assert bus.listening.wait(5)
started = time.monotonic()
for _ in range(50):
    gevent.sleep(0.01)
# A subscriber that held the hub would let these ticks run only after LISTEN_S.
print(time.monotonic() - started < LISTEN_S)
"""


def test_under_gevent_the_subscriber_leaves_the_worker_free_to_serve():
    ran = subprocess.run(
        [sys.executable, "-c", WAITS_AS_A_GREENLET, REDIS_URL, f"test-{uuid.uuid4().hex}"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert ran.stdout.strip() == "True", ran.stderr
