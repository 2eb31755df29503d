"""Wake the event streams of every worker and host when any of them commits a change.

Each process's ChangeSignal (db.py) wakes only its own streams. With EVENT_BUS_URL set, a
commit also publishes a message on a Redis channel, and every process's subscriber wakes
its streams on hearing one: they read the new events from the database (the event log is
the record; the message carries nothing). redis-py speaks through Python sockets, which
gevent patches, so the subscriber waits as a greenlet and never blocks a worker's hub.

While Redis is unreachable nothing is lost: streams still look at the database at every
keepalive and EventFeed's FEED_MAX_AGE_S, and a subscriber that comes back wakes them once,
for whatever was committed meanwhile.
"""

from __future__ import annotations

import logging
import threading

import redis

from handoff_server.db import ChangeSignal

CHANNEL = "lumen:handoff:changed"
# A dead connection is noticed within HEALTH_CHECK_S + LISTEN_S; a refused one at once.
CONNECT_TIMEOUT_S = 1.0
LISTEN_S = 5.0
HEALTH_CHECK_S = 10
MAX_RETRY_S = 30.0

log = logging.getLogger(__name__)


class RedisEventBus:
    """Publish this process's commits on Redis and wake its streams on everyone's."""

    def __init__(self, url: str, signal: ChangeSignal, channel: str = CHANNEL) -> None:
        self.url = url
        self.signal = signal
        self.channel = channel
        self._redis = redis.Redis.from_url(
            url,
            socket_connect_timeout=CONNECT_TIMEOUT_S,
            socket_timeout=LISTEN_S + HEALTH_CHECK_S,
            health_check_interval=HEALTH_CHECK_S,
        )
        # Set while the subscriber hears the channel; a commit publishes only then, so a
        # Redis that is down costs a request no connection timeout.
        self.listening = threading.Event()
        self._stopped = threading.Event()

    def publish(self) -> None:
        """Tell every other process's streams that a change was committed."""
        if not self.listening.is_set():
            return
        try:
            self._redis.publish(self.channel, b"")
        except redis.RedisError as error:
            log.error(
                "event bus %s: publish failed, other workers see this change at their next"
                " keepalive: %s",
                self._safe_url(),
                error,
            )

    def start(self) -> None:
        """Listen in a background thread (a greenlet under gunicorn's gevent worker)."""
        self.signal.relay = self.publish
        threading.Thread(target=self._listen, name="handoff-event-bus", daemon=True).start()

    def stop(self) -> None:
        """Stop publishing and listening."""
        self._stopped.set()
        self.listening.clear()
        self.signal.relay = None

    def _listen(self) -> None:
        retry_s = 0.5
        while not self._stopped.is_set():
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(self.channel)
                self.listening.set()
                log.info("event bus %s: listening on %s", self._safe_url(), self.channel)
                # Whatever other processes committed while this one was not listening.
                self.signal.notify()
                retry_s = 0.5
                while not self._stopped.is_set():
                    if pubsub.get_message(timeout=LISTEN_S) is not None:
                        self.signal.notify()
            except (redis.RedisError, OSError) as error:
                self.listening.clear()
                log.error(
                    "event bus %s unreachable: streams see other workers' changes only at"
                    " their keepalive until it is back; retrying in %.1f s: %s",
                    self._safe_url(),
                    retry_s,
                    error,
                )
                self._stopped.wait(retry_s)
                retry_s = min(retry_s * 2, MAX_RETRY_S)
            finally:
                pubsub.close()

    def _safe_url(self) -> str:
        """Name the Redis server without its password."""
        kwargs = self._redis.connection_pool.connection_kwargs
        return f"redis://{kwargs.get('host', '?')}:{kwargs.get('port', '?')}/{kwargs.get('db', 0)}"
