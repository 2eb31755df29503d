"""A conversation lock that several Rasa instances can share through Redis.

Rasa 3.6's RedisLockStore keeps each conversation's ticket lock as one JSON value and
changes it by reading, changing and writing it back in separate commands. Two instances
doing so at once overwrite each other: the same ticket goes to two turns, which then run
at the same time (the tracker store keeps whichever saved last and drops the other's
events), or a waiting turn's ticket vanishes and Rasa drops its message with "Could not
acquire lock". tests/bot/rasa_runtime/test_lock_store.py, run with Rasa's RedisLockStore in
place of this one, fails on both (112 of 300 tickets issued twice). Here every change is
one Redis transaction (WATCH/MULTI/EXEC, retried on a conflict), and a lock that a change
leaves as it was is not written again.

A turn waiting for the lock also looks again every WAIT_S rather than every second, Rasa's
default: an agent's message that arrives during the customer's turn goes out as soon as the
turn is over.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Callable
from contextlib import asynccontextmanager
from typing import Any

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

WAIT_S = 0.05


class RedisTicketLockStore(RedisLockStore):  # type: ignore[misc]
    """Rasa's Redis lock store with each change of a lock made atomically.

    endpoints.yml: `lock_store: {type: bot.lock_store.RedisTicketLockStore, url: ..., port: ...}`.
    """

    def __init__(self, endpoint_config: EndpointConfig | None = None, **kwargs: object) -> None:
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url, **endpoint_config.kwargs, **kwargs}
        super().__init__(**kwargs)

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = WAIT_S,
    ) -> AsyncGenerator[TicketLock, None]:
        """Hold the conversation's lock, looking every `wait_time_in_seconds` while waiting."""
        async with super().lock(conversation_id, lock_lifetime, wait_time_in_seconds) as held:
            yield held

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """Issue the next ticket of the conversation's lock, creating the lock if need be."""
        issued: list[int] = []

        def issue(lock: TicketLock) -> TicketLock:
            issued.append(lock.issue_ticket(lock_lifetime))
            return lock

        self._change(conversation_id, issue, create=True)
        return issued[-1]  # the attempt that was written, if a conflict made it try again

    def update_lock(self, conversation_id: str) -> None:
        """Drop the lock's expired tickets."""

        def drop_expired(lock: TicketLock) -> TicketLock:
            lock.remove_expired_tickets()
            return lock

        self._change(conversation_id, drop_expired)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Give the ticket back, and remove the lock if nobody else holds a ticket."""

        def give_back(lock: TicketLock) -> TicketLock | None:
            lock.remove_ticket_for(ticket_number)
            return lock if lock.is_someone_waiting() else None

        self._change(conversation_id, give_back)

    def _change(
        self,
        conversation_id: str,
        change: Callable[[TicketLock], TicketLock | None],
        create: bool = False,
    ) -> None:
        """Read the lock, change it and write it (None: delete it), in one transaction.

        Without `create`, a lock that is not there stays absent.
        """
        key = self.key_prefix + conversation_id

        def transaction(pipe: Any) -> None:
            serialised = pipe.get(key)  # bytes, or None for no lock
            if serialised:
                lock = TicketLock.from_dict(json.loads(serialised))
            elif create:
                lock = self.create_lock(conversation_id)
            else:
                return
            changed = change(lock)
            if serialised and changed is not None and changed.dumps().encode() == serialised:
                return  # as it was: writing it would only break others' WATCH
            pipe.multi()
            if changed is None:
                pipe.delete(key)
            else:
                pipe.set(key, changed.dumps())

        self.red.transaction(transaction, key)
