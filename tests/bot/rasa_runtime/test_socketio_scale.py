"""bot/socketio_scale.py under Rasa's own runtime, on the Redis that runs on this machine.

Two socket.io servers stand for two Rasa instances sharing one channel; the customer's
socket is on the second. What each server would write to its sockets is recorded.
"""

from __future__ import annotations

import asyncio
import unittest
import uuid
from typing import Any
from unittest import mock

import socketio

from bot.socketio_scale import OrderedRedisManager

REDIS_URL = "redis://127.0.0.1:6379/0"
ROOM = "customer-1"
MESSAGES = 60


class OrderedRedisManagerTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self) -> None:
        channel = f"test-{uuid.uuid4().hex}"
        self.managers = [OrderedRedisManager(REDIS_URL, channel=channel) for _ in range(2)]
        for manager in self.managers:
            socketio.AsyncServer(client_manager=manager, async_mode="asgi")
            manager.initialize()
        self.written: dict[int, list[Any]] = {0: [], 1: []}
        for manager in self.managers:
            self.assertTrue(await manager.subscribed())

    async def asyncTearDown(self) -> None:
        for manager in self.managers:
            if getattr(manager, "thread", None) is not None:
                manager.thread.cancel()

    def sockets(self) -> Any:
        """Stand in for writing to a room's sockets: record what reaches them, per instance."""

        async def deliver(manager: Any, _event: str, data: Any, **kwargs: Any) -> None:
            if kwargs.get("room") == ROOM:
                self.written[self.managers.index(manager)].append(data)

        return mock.patch.object(socketio.AsyncManager, "emit", deliver)

    async def test_one_rooms_messages_reach_its_socket_in_the_order_emitted_whoever_emits(
        self,
    ) -> None:
        with self.sockets():
            # One conversation's turns, one after the other, on either instance.
            for number in range(MESSAGES):
                await self.managers[number % 2].emit("bot_uttered", number, room=ROOM)
            for _ in range(100):
                if len(self.written[1]) == MESSAGES:
                    break
                await asyncio.sleep(0.05)

        self.assertEqual(self.written[1], list(range(MESSAGES)))
        self.assertEqual(self.written[0], list(range(MESSAGES)), "each instance, in order")

    async def test_caught_up_returns_once_what_others_emitted_has_reached_this_instance(
        self,
    ) -> None:
        with self.sockets():
            await self.managers[0].emit("bot_uttered", "agent message", room=ROOM)
            await self.managers[1].caught_up()
            self.assertEqual(self.written[1], ["agent message"])

    async def test_with_redis_out_of_reach_an_instances_own_sockets_still_get_its_emits(
        self,
    ) -> None:
        unreachable = OrderedRedisManager("redis://127.0.0.1:1/0", channel="nowhere")
        socketio.AsyncServer(client_manager=unreachable, async_mode="asgi")
        self.managers.append(unreachable)
        self.written[2] = []
        with self.sockets():
            await unreachable.emit("bot_uttered", "still here", room=ROOM)
        self.assertEqual(self.written[2], ["still here"])


if __name__ == "__main__":
    unittest.main()
