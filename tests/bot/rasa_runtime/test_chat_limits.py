"""bot/chat_limits.py under Rasa's own runtime: who is slowed down, who never is.

Time is an injected clock (the limiter's memory storage reads the same one), never a sleep.
"""

from __future__ import annotations

import asyncio
import json
import random
import unittest
import uuid
from types import SimpleNamespace
from typing import cast
from unittest import mock

import limits.storage.memory
from rasa.core.channels.channel import UserMessage
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels import refusing_over
from bot.chat_limits import REFUSAL, ChatLimits
from bot.overload import BUSY, TurnsInFlight
from bot.settings import BotSettings


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


class ChatLimitsTest(unittest.TestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        patcher = mock.patch.object(limits.storage.memory, "time", SimpleNamespace(time=self.clock))
        patcher.start()
        self.addCleanup(patcher.stop)

    def chat_limits(self, per_session: str, per_address: str) -> ChatLimits:
        return ChatLimits(per_session, per_address, "memory://", clock=self.clock)

    def test_a_session_over_its_limit_is_told_to_wait_and_others_are_not(self) -> None:
        chat = self.chat_limits("3 per minute", "100 per minute")
        for _ in range(3):
            self.assertIsNone(chat.refusal("session-a", "10.0.0.1"))
            self.clock.now += 1

        refused = chat.refusal("session-a", "10.0.0.1")

        assert refused is not None
        self.assertEqual(refused.message, REFUSAL)
        # The minute's window opened with the first of the three, 3 s ago: it ends in 57 s.
        self.assertEqual(refused.retry_after_s, 58)
        self.assertIsNone(chat.refusal("session-b", "10.0.0.1"))

    def test_once_the_window_moves_on_the_session_may_speak_again(self) -> None:
        chat = self.chat_limits("2 per minute", "100 per minute")
        chat.refusal("session-a", "10.0.0.1")
        chat.refusal("session-a", "10.0.0.1")
        refused = chat.refusal("session-a", "10.0.0.1")
        assert refused is not None

        self.clock.now += refused.retry_after_s

        self.assertIsNone(chat.refusal("session-a", "10.0.0.1"))

    def test_an_address_opening_session_after_session_is_limited_as_one(self) -> None:
        chat = self.chat_limits("3 per minute", "5 per minute")
        for number in range(5):
            self.assertIsNone(chat.refusal(f"session-{number}", "10.0.0.1"))

        self.assertIsNotNone(chat.refusal("session-new", "10.0.0.1"))
        self.assertIsNone(chat.refusal("session-new", "10.0.0.2"))

    def test_a_refused_message_costs_nothing(self) -> None:
        chat = self.chat_limits("2 per minute", "3 per minute")
        chat.refusal("session-a", "10.0.0.1")
        chat.refusal("session-a", "10.0.0.1")
        for _ in range(10):
            self.assertIsNotNone(chat.refusal("session-a", "10.0.0.1"))

        # Ten refusals later the address has still sent only two messages.
        self.assertIsNone(chat.refusal("session-b", "10.0.0.1"))

    def test_a_fast_typist_is_never_slowed_down_by_the_defaults(self) -> None:
        chat = ChatLimits.from_settings(BotSettings.from_env(), clock=self.clock)
        # A message every two seconds for five minutes, more than anyone types.
        for _ in range(150):
            self.assertIsNone(chat.refusal("typist", "10.0.0.1"))
            self.clock.now += 2

    def test_the_load_tools_crowd_behind_one_address_is_never_slowed_down(self) -> None:
        chat = ChatLimits.from_settings(BotSettings.from_env(), clock=self.clock)
        # `make load`: 200 customers on loopback, exponential pauses of 10 s on average,
        # and `--quick`: 16 of them pausing 4 s; five minutes of each.
        for customers, pause_s in ((200, 10.0), (16, 4.0)):
            pace = random.Random(customers)
            start = self.clock.now
            messages = sorted(
                (at, f"{customers}-{number}")
                for number in range(customers)
                for at in arrivals(pace, start, start + 300, pause_s)
            )
            for at, customer in messages:
                self.clock.now = at
                self.assertIsNone(chat.refusal(customer, "127.0.0.1"), customer)
            self.clock.now += 600

    def test_unreadable_settings_are_refused_at_start_naming_the_variable(self) -> None:
        for per_session, per_address, storage, named in (
            ("lots", "10 per minute", "memory://", "CHAT_LIMIT_PER_SESSION"),
            ("10 per minute", "10 per fortnight", "memory://", "CHAT_LIMIT_PER_ADDRESS"),
            ("10 per minute", "10 per minute", "carrier-pigeon://loft", "RATE_LIMIT_STORAGE_URI"),
        ):
            with self.subTest(named), self.assertRaisesRegex(ValueError, named):
                ChatLimits(per_session, per_address, storage)


class SharedCountsTest(unittest.TestCase):
    """Scaled out, every Rasa process counts in the same Redis (127.0.0.1:6379 runs here)."""

    def test_two_rasa_processes_share_a_sessions_count(self) -> None:
        first, second = (
            ChatLimits("2 per hour", "100 per hour", "redis://127.0.0.1:6379") for _ in range(2)
        )
        session, address = f"session-{uuid.uuid4().hex}", f"10.1.{random.randrange(256)}.7"
        self.assertIsNone(first.refusal(session, address))
        self.assertIsNone(second.refusal(session, address))
        # The third message is refused wherever it arrives.
        self.assertIsNotNone(first.refusal(session, address))
        self.assertIsNotNone(second.refusal(session, address))
        self.assertIsNone(second.refusal(f"session-{uuid.uuid4().hex}", address))


class RestWiringTest(unittest.TestCase):
    """The REST webhook's middleware: 429 with Retry-After past the limit, nothing before."""

    def setUp(self) -> None:
        self.middleware = refusing_over(ChatLimits("2 per minute", "100 per minute", "memory://"))

    def post(self, body: object, address: str = "10.0.0.1") -> HTTPResponse | None:
        request = SimpleNamespace(method="POST", json=body, remote_addr="", ip=address)
        return asyncio.run(self.middleware(cast(Request, request)))

    def test_a_sender_over_the_limit_gets_a_429_with_retry_after_and_a_json_error(self) -> None:
        self.assertIsNone(self.post({"sender": "ann", "message": "hi"}))
        self.assertIsNone(self.post({"sender": "ann", "message": "hi"}))

        refused = self.post({"sender": "ann", "message": "hi"})

        assert refused is not None
        self.assertEqual(refused.status, 429)
        self.assertGreater(int(refused.headers["Retry-After"]), 0)
        body = json.loads(refused.body or b"")
        self.assertEqual((body["error"], body["message"]), ("too_many_messages", REFUSAL))
        self.assertIsNone(self.post({"sender": "bob", "message": "hi"}))

    def test_a_malformed_request_is_left_to_the_webhook_and_not_counted(self) -> None:
        malformed: list[object] = [[], {"message": "hi"}, {"sender": 42}, None]
        for body in malformed:
            for _ in range(3):
                self.assertIsNone(self.post(body), body)


class OverloadTest(unittest.IsolatedAsyncioTestCase):
    """Past its conversations in hand, Rasa refuses another's message at once, saying it is busy."""

    async def test_past_the_limit_a_message_is_refused_until_a_turn_ends(self) -> None:
        turns = TurnsInFlight(limit=2)
        release = asyncio.Event()

        async def slow_turn(_message: object) -> None:
            await release.wait()

        handle = turns.counted(slow_turn)
        running = [
            asyncio.create_task(handle(UserMessage("hi", sender_id=sender)))
            for sender in ("ann", "bob", "bob")
        ]
        await asyncio.sleep(0)

        refused = turns.refusal("cid")
        assert refused is not None
        self.assertEqual((refused.error, refused.message), ("busy", BUSY))
        self.assertGreater(refused.retry_after_s, 0)
        # Bob's next message waits behind his own turn: his conversation is in hand already.
        self.assertIsNone(turns.refusal("bob"))

        release.set()
        await asyncio.gather(*running)
        self.assertIsNone(turns.refusal("cid"))

    async def test_a_turn_that_fails_still_gives_its_place_back(self) -> None:
        turns = TurnsInFlight(limit=1)

        async def failing_turn(_message: object) -> None:
            raise RuntimeError("the action server fell over")

        with self.assertRaises(RuntimeError):
            await turns.counted(failing_turn)(UserMessage("hi", sender_id="ann"))
        self.assertIsNone(turns.refusal("bob"))

    def test_a_full_rasa_answers_rest_with_a_429_saying_it_is_busy(self) -> None:
        middleware = refusing_over(ChatLimits("20 per minute", "100 per minute", "memory://"))
        request = SimpleNamespace(
            method="POST", json={"sender": "ann", "message": "hi"}, remote_addr="", ip="10.0.0.1"
        )
        full = TurnsInFlight(limit=1)
        full.turns["someone-else"] = 1
        with mock.patch("bot.channels.turns_in_flight", return_value=full):
            refused = asyncio.run(middleware(cast(Request, request)))

        assert refused is not None
        self.assertEqual(refused.status, 429)
        self.assertEqual(json.loads(refused.body or b"")["message"], BUSY)

    def test_a_limit_under_one_stops_rasa_at_start_naming_the_variable(self) -> None:
        for value in ("0", "-3", "many"):
            with (
                self.subTest(value),
                mock.patch.dict("os.environ", {"MAX_TURNS_IN_FLIGHT": value}),
                self.assertRaisesRegex(ValueError, "MAX_TURNS_IN_FLIGHT"),
            ):
                BotSettings.from_env()


def arrivals(pace: random.Random, start: float, end: float, mean_pause_s: float) -> list[float]:
    """When one customer of the load tool sends, pausing exponentially between messages."""
    times = []
    at = start + pace.uniform(0, 30)
    while at < end:
        times.append(at)
        at += pace.expovariate(1 / mean_pause_s)
    return times


if __name__ == "__main__":
    unittest.main()
