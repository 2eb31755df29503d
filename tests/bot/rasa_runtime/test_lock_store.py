"""bot/lock_store.py under Rasa's own runtime, on the Redis that runs on this machine.

Two Rasa instances share a conversation's lock through Redis. Each store here stands for
one instance (its own connection), each thread for the instance's work.
"""

from __future__ import annotations

import asyncio
import functools
import threading
import unittest
import uuid
from collections.abc import Callable

from rasa.core.lock_store import LockStore

from bot.lock_store import RedisTicketLockStore

REDIS_HOST = "127.0.0.1"
TICKETS_PER_INSTANCE = 150
TURNS_PER_INSTANCE = 40


def instances(count: int, prefix: str) -> list[LockStore]:
    """Stores standing for `count` Rasa instances on one Redis, under a prefix of this test's."""
    return [RedisTicketLockStore(host=REDIS_HOST, key_prefix=prefix) for _ in range(count)]


def in_parallel(work: list[Callable[[], None]]) -> None:
    threads = [threading.Thread(target=job) for job in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)


class RedisTicketLockStoreTest(unittest.TestCase):
    def setUp(self) -> None:
        self.prefix = f"test{uuid.uuid4().hex}"
        self.conversation = "customer-1"

    def tearDown(self) -> None:
        store = instances(1, self.prefix)[0]
        store.red.delete(store.key_prefix + self.conversation)

    def test_tickets_issued_at_once_by_two_instances_are_all_distinct(self) -> None:
        issued: list[list[int]] = [[], []]

        def issue(store: LockStore, into: list[int]) -> Callable[[], None]:
            return lambda: into.extend(
                store.issue_ticket(self.conversation, 60) for _ in range(TICKETS_PER_INSTANCE)
            )

        in_parallel([issue(s, t) for s, t in zip(instances(2, self.prefix), issued, strict=True)])

        tickets = issued[0] + issued[1]
        self.assertEqual(len(tickets), 2 * TICKETS_PER_INSTANCE)
        self.assertEqual(len(set(tickets)), len(tickets), "one ticket issued twice")
        lock = instances(1, self.prefix)[0].get_lock(self.conversation)
        self.assertEqual(len(lock.tickets), len(tickets), "a ticket lost from the lock")

    def test_two_instances_never_hold_a_conversation_at_once_and_all_turns_run(self) -> None:
        holders, most, turns = [0], [0], [0]
        count = threading.Lock()

        async def take_turns(store: LockStore) -> None:
            for _ in range(TURNS_PER_INSTANCE):
                async with store.lock(self.conversation):
                    with count:
                        holders[0] += 1
                        most[0] = max(most[0], holders[0])
                    await asyncio.sleep(0.002)
                    with count:
                        holders[0] -= 1
                        turns[0] += 1

        in_parallel(
            [functools.partial(asyncio.run, take_turns(s)) for s in instances(2, self.prefix)]
        )

        self.assertEqual(most[0], 1, "two turns of one conversation ran at once")
        self.assertEqual(turns[0], 2 * TURNS_PER_INSTANCE)
        self.assertIsNone(instances(1, self.prefix)[0].get_lock(self.conversation))


if __name__ == "__main__":
    unittest.main()
