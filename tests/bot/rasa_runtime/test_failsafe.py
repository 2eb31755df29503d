"""bot/failsafe.py under Rasa's own runtime (Python 3.10, rasa 3.6).

tests/bot/test_failsafe_runtime.py runs these with `.venv-rasa/bin/python -m unittest`:
the failsafe imports Rasa, which the 3.11 venv does not have, and Rasa's venv has no
pytest (Rasa 3.6 pins a `packaging` too old for it), so they are unittest cases.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
import unittest
from collections.abc import Awaitable, Callable, Mapping
from contextlib import suppress
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
from aiohttp import web
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel, OutputChannel, UserMessage
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.action_timeout import TimedEndpointConfig, time_action_calls
from bot.failsafe import (
    HEALTH_CHECK_TIMEOUT_S,
    context_packet,
    expects_no_reply,
    is_up,
    rescue,
    rescue_failed_turn,
)
from bot.settings import BotSettings
from lumen.vocabulary import HandoffReason

REPO_ROOT = Path(__file__).resolve().parents[3]


@lru_cache(maxsize=1)
def domain() -> Domain:
    return Domain.load(str(REPO_ROOT / "bot" / "domain.yml"))


def user(text: str, intent: str, message_id: str, **metadata: Any) -> UserUttered:
    return UserUttered(
        text,
        intent={"name": intent, "confidence": 0.93},
        metadata=metadata,
        message_id=message_id,
        timestamp=1763800000.0,
    )


def tracker(*events: Any) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("guest-1", list(events), slots=domain().slots)


CONVERSATION = (
    user("where is the spa", "ask_question", "m-1", channel="kiosk", kiosk_id="deck-3"),
    BotUttered("The spa is on deck 4, aft.", timestamp=1763800001.0),
    SlotSet(
        "faq_result", {"kind": "answer", "hits": [{"faq_id": "spa", "score": 0.8}], "tags": ["spa"]}
    ),
    SlotSet("customer_name", "Ines Duarte"),
    user("and is it open now?", "ask_question", "m-2"),
)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def serve(routes: Mapping[str, Handler], port: int = 0) -> web.AppRunner:
    """Serve `routes` on a loopback port (0: a free one); the caller cleans the runner up."""
    app = web.Application()
    for path, handler in routes.items():
        app.router.add_route("*", path, handler)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


async def with_handoff_server(
    routes: Mapping[str, Handler],
    test: Callable[[BotSettings, aiohttp.ClientSession], Awaitable[Any]],
) -> Any:
    """Serve `routes` on a free loopback port as the handoff server and run `test` against it."""
    runner = await serve(routes)
    port = runner.addresses[0][1]
    settings = BotSettings(handoff_url=f"http://127.0.0.1:{port}", handoff_service_token="t0k")
    try:
        async with aiohttp.ClientSession(
            headers={"Authorization": "Bearer t0k"}, timeout=aiohttp.ClientTimeout(total=5)
        ) as http:
            return await test(settings, http)
    finally:
        await runner.cleanup()


def message(text: str, message_id: str) -> UserMessage:
    return UserMessage(text, CollectingOutputChannel(), "guest-1", message_id=message_id)


def run_rescue(
    conversation: DialogueStateTracker, agents_online: int
) -> tuple[tuple[str | None, list[Any]], list[tuple[str, dict[str, Any]]]]:
    received: list[tuple[str, dict[str, Any]]] = []

    async def handoffs(request: web.Request) -> web.Response:
        assert request.headers["Authorization"] == "Bearer t0k"
        received.append((request.path, await request.json()))
        return web.json_response({"id": 42, "agents_online": agents_online, "position": 1})

    async def customer_messages(request: web.Request) -> web.Response:
        received.append((request.path, await request.json()))
        return web.json_response({"id": 5})

    routes = {
        "/api/handoffs": handoffs,
        "/api/conversations/{id}/customer-messages": customer_messages,
    }
    result = asyncio.run(
        with_handoff_server(
            routes,
            lambda settings, http: rescue(http, conversation, message("hello?", "m-2"), settings),
        )
    )
    return result, received


def after_a_silent_turn(
    conversation: DialogueStateTracker, *, call_failed: bool
) -> tuple[list[str], list[tuple[str, dict[str, Any]]], DialogueStateTracker]:
    """Run the failsafe after a turn that said nothing, the action server up and healthy.

    Return what the customer was told, what the handoff server received, and the tracker.
    """
    received: list[tuple[str, dict[str, Any]]] = []

    async def healthy(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def late(request: web.Request) -> web.Response:
        await asyncio.sleep(3)
        return web.json_response({"events": [], "responses": []})

    async def customer_messages(request: web.Request) -> web.Response:
        received.append((request.path, await request.json()))
        return web.json_response({"id": 5})

    async def late_turn(settings: BotSettings, http: aiohttp.ClientSession) -> Any:
        endpoint = TimedEndpointConfig(f"{settings.handoff_url}/webhook", timeout="1")
        if call_failed:  # Rasa's call of the turn's action, too late for the timeout
            with suppress(asyncio.TimeoutError):
                await endpoint.request(json={"sender_id": conversation.sender_id})
        store = InMemoryTrackerStore(domain())
        await store.save(conversation)
        output = CollectingOutputChannel()

        async def execute_side_effects(events: list[Any], _: Any, channel: OutputChannel) -> None:
            for event in events:
                if isinstance(event, BotUttered):
                    await channel.send_text_message(conversation.sender_id, event.text)

        agent = SimpleNamespace(
            action_endpoint=endpoint,
            lock_store=InMemoryLockStore(),
            tracker_store=store,
            nlg=TemplatedNaturalLanguageGenerator(domain().responses),
            domain=domain(),
            processor=SimpleNamespace(execute_side_effects=execute_side_effects),
        )
        turn = UserMessage("and is it open now?", output, conversation.sender_id, message_id="m-2")
        await rescue_failed_turn(agent, turn, settings)  # type: ignore[arg-type]
        return [str(said.get("text")) for said in output.messages], await store.retrieve(
            conversation.sender_id
        )

    routes = {
        "/health": healthy,
        "/webhook": late,
        "/api/conversations/{id}/customer-messages": customer_messages,
    }
    told, saved = asyncio.run(with_handoff_server(routes, late_turn))
    return told, received, saved


class FailsafeTest(unittest.TestCase):
    """The failsafe's packet, its decision to stay quiet, and the rescue itself."""

    def test_these_run_under_rasas_python_3_10_with_the_shared_package(self):
        assert sys.version_info[:2] == (3, 10)
        assert str(HandoffReason.BOT_FAILURE) == "bot_failure"

    def test_the_packet_tells_the_agent_who_where_and_what_was_said_with_the_reason_bot_failure(
        self,
    ):
        packet = context_packet(tracker(*CONVERSATION))

        assert packet["sender_id"] == "guest-1"
        assert (packet["channel"], packet["kiosk_id"]) == ("kiosk", "deck-3")
        assert packet["customer"]["name"] == "Ines Duarte"
        assert packet["reason"] == "bot_failure"
        assert [turn["role"] for turn in packet["transcript"]] == ["customer", "bot", "customer"]
        assert packet["transcript"][0]["faq_hits"] == [{"faq_id": "spa", "score": 0.8}]
        assert packet["tags"] == ["spa"]
        assert packet["summary"].endswith('action server is down); last: "and is it open now?"')
        # The Rasa process has no sentiment model: it sends none rather than a made-up one.
        assert "sentiment" not in packet

    def test_a_kiosk_wipe_expects_no_reply_and_a_question_does(self):
        wiped = tracker(user("/session_end", "session_end", "m-9"))
        asked = tracker(*CONVERSATION)

        assert expects_no_reply(wiped, "m-9")
        assert not expects_no_reply(asked, "m-2")
        # A message the tracker never saw is not answered either.
        assert expects_no_reply(asked, "m-unknown")

    def test_with_someone_on_duty_the_rescue_hands_off_and_puts_the_person_in_charge(self):
        (response, events), received = run_rescue(tracker(*CONVERSATION), agents_online=2)

        [(path, packet)] = received
        assert path == "/api/handoffs"
        assert packet["reason"] == "bot_failure"
        assert response == "utter_bot_failure_handoff"
        assert SlotSet("handoff_active", True) in events
        assert SlotSet("handoff_id", 42) in events

    def test_with_nobody_on_duty_the_rescue_offers_to_leave_a_message(self):
        (response, _), _ = run_rescue(tracker(*CONVERSATION), agents_online=0)
        assert response == "utter_bot_failure_leave_message"

    def test_during_a_handoff_the_message_goes_straight_to_the_agent(self):
        handed_off = tracker(
            *CONVERSATION, SlotSet("handoff_active", True), SlotSet("handoff_id", 7.0)
        )

        (response, events), received = run_rescue(handed_off, agents_online=1)

        assert received == [
            ("/api/conversations/7/customer-messages", {"text": "hello?", "idempotency_key": "m-2"})
        ]
        assert (response, events) == (None, [])

    def test_with_the_handoff_server_down_too_the_customer_is_told_to_try_later(self):
        async def refused(settings: BotSettings, http: aiohttp.ClientSession) -> Any:
            gone = BotSettings(handoff_url="http://127.0.0.1:9", handoff_service_token="t0k")
            return await rescue(http, tracker(*CONVERSATION), message("hello?", "m-2"), gone)

        assert asyncio.run(with_handoff_server({}, refused)) == ("utter_handoff_unavailable", [])

    def test_the_action_server_counts_as_up_only_when_its_health_route_answers(self):
        async def health(request: web.Request) -> web.Response:
            return web.json_response({"status": "ok"})

        async def probe(settings: BotSettings, http: aiohttp.ClientSession) -> tuple[bool, bool]:
            up = await is_up(f"{settings.handoff_url}/webhook")
            down = await is_up("http://127.0.0.1:9/webhook")
            return up, down

        assert asyncio.run(with_handoff_server({"/health": health}, probe)) == (True, False)

    def test_a_hung_action_server_counts_as_down_within_the_health_check_timeout(self):
        async def hang(request: web.Request) -> web.Response:
            await asyncio.sleep(60)
            return web.json_response({"status": "ok"})

        async def probe(settings: BotSettings, http: aiohttp.ClientSession) -> tuple[bool, float]:
            started = asyncio.get_running_loop().time()
            up = await is_up(f"{settings.handoff_url}/webhook")
            return up, asyncio.get_running_loop().time() - started

        up, waited = asyncio.run(with_handoff_server({"/health": hang}, probe))
        assert not up
        # It gave up by itself, not at the session's own 5 s limit.
        assert waited < HEALTH_CHECK_TIMEOUT_S + 2

    def test_a_busy_rasa_does_not_take_a_healthy_action_server_for_a_hung_one(self):
        class Healthy(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        async def during_a_long_turn(url: str) -> bool:
            check = asyncio.ensure_future(is_up(url))
            await asyncio.sleep(0)  # the check is on its way...
            time.sleep(HEALTH_CHECK_TIMEOUT_S + 1)  # ...and Rasa's loop is busy with NLU
            return await check

        # The action server runs apart from Rasa's loop, as it does in production.
        with ThreadingHTTPServer(("127.0.0.1", 0), Healthy) as server:
            threading.Thread(target=server.serve_forever, daemon=True).start()
            try:
                url = f"http://127.0.0.1:{server.server_address[1]}/webhook"
                self.assertTrue(asyncio.run(during_a_long_turn(url)))
            finally:
                server.shutdown()

    def test_rasas_call_to_a_hung_action_server_gives_up_after_the_endpoints_timeout(self):
        async def hang(request: web.Request) -> web.Response:
            # Hung for 15 s, then an answer: without the endpoint's 1 s timeout Rasa gets it.
            await asyncio.sleep(15)
            return web.json_response({"events": [], "responses": []})

        async def call(settings: BotSettings, http: aiohttp.ClientSession) -> None:
            # The loaded agent as the listener finds it; `timeout` as endpoints.yml gives it.
            endpoint = EndpointConfig(f"{settings.handoff_url}/webhook", timeout="1")
            agent = SimpleNamespace(action_endpoint=endpoint, processor=None)
            app = SimpleNamespace(ctx=SimpleNamespace(agent=agent))
            await time_action_calls(app)  # type: ignore[arg-type]
            assert isinstance(app.ctx.agent.action_endpoint, TimedEndpointConfig)
            action = RemoteAction("action_answer_faq", app.ctx.agent.action_endpoint)
            nlg = TemplatedNaturalLanguageGenerator(domain().responses)
            await action.run(CollectingOutputChannel(), nlg, tracker(*CONVERSATION), domain())

        with self.assertRaises(asyncio.TimeoutError):
            asyncio.run(with_handoff_server({"/webhook": hang}, call))

    def test_a_question_whose_action_call_failed_gets_ask_again_not_silence(self):
        told, received, saved = after_a_silent_turn(tracker(*CONVERSATION), call_failed=True)

        assert told == [domain().responses["utter_ask_again"][0]["text"]]
        assert received == []  # the action server is up: nobody is handed the customer
        assert saved.latest_bot_utterance.text == told[0]

    def test_during_a_handoff_a_message_whose_call_failed_goes_straight_to_the_agent(self):
        handed_off = tracker(
            *CONVERSATION, SlotSet("handoff_active", True), SlotSet("handoff_id", 7.0)
        )
        told, received, _ = after_a_silent_turn(handed_off, call_failed=True)

        assert told == []  # the bot never talks over an agent
        assert received == [
            (
                "/api/conversations/7/customer-messages",
                {"text": "and is it open now?", "idempotency_key": "m-2"},
            )
        ]

    def test_a_turn_silent_on_purpose_stays_silent(self):
        handed_off = tracker(
            *CONVERSATION, SlotSet("handoff_active", True), SlotSet("handoff_id", 7.0)
        )
        assert after_a_silent_turn(handed_off, call_failed=False)[:2] == ([], [])

    def test_the_endpoint_remembers_a_failed_call_once_and_not_a_rejected_action(self):
        async def reject(request: web.Request) -> web.Response:
            return web.json_response({"error": "no such action"}, status=404)

        async def calls(settings: BotSettings, http: aiohttp.ClientSession) -> list[bool]:
            rejecting = TimedEndpointConfig(f"{settings.handoff_url}/webhook", timeout="1")
            refused = TimedEndpointConfig("http://127.0.0.1:9/webhook", timeout="1")
            for endpoint in (rejecting, refused):
                with suppress(aiohttp.ClientError):
                    await endpoint.request(json={"sender_id": "guest-1"})
            return [
                rejecting.forget_failure("guest-1"),
                refused.forget_failure("guest-1"),
                refused.forget_failure("guest-1"),
            ]

        assert asyncio.run(with_handoff_server({"/webhook": reject}, calls)) == [False, True, False]

    def test_action_calls_share_a_connection_and_go_on_once_the_action_server_restarted(self):
        async def calls() -> tuple[list[str], set[Any], bool]:
            answers: list[str] = []
            callers: set[Any] = set()

            def action_server(name: str) -> Mapping[str, Handler]:
                async def answer(request: web.Request) -> web.Response:
                    callers.add(request.transport.get_extra_info("peername"))  # type: ignore
                    return web.json_response({"events": [], "responses": [{"text": name}]})

                return {"/webhook": answer}

            first = await serve(action_server("first"))
            port = first.addresses[0][1]
            endpoint = TimedEndpointConfig(f"http://127.0.0.1:{port}/webhook", timeout="2")

            async def call() -> None:
                answer = await endpoint.request(json={"sender_id": "guest-1"})
                answers.append(answer["responses"][0]["text"])

            for _ in range(3):
                await call()
            await first.cleanup()  # the action server stops, and starts again
            second = await serve(action_server("restarted"), port)
            try:
                await call()
            finally:
                await endpoint.close()
                await second.cleanup()
            return answers, callers, endpoint.forget_failure("guest-1")

        answers, callers, failed = asyncio.run(calls())
        assert answers == ["first", "first", "first", "restarted"]
        assert len(callers) == 2  # one connection for the first server's three calls
        assert not failed

    def test_an_action_server_behind_basic_auth_gets_the_endpoints_credentials(self):
        async def answer(request: web.Request) -> web.Response:
            return web.json_response({"authorization": request.headers.get("Authorization")})

        async def call(settings: BotSettings, http: aiohttp.ClientSession) -> Any:
            endpoint = TimedEndpointConfig(
                f"{settings.handoff_url}/webhook",
                basic_auth={"username": "rasa", "password": "s3cret"},
                timeout="2",
            )
            try:
                return await endpoint.request(json={"sender_id": "guest-1"})
            finally:
                await endpoint.close()

        answer_ = asyncio.run(with_handoff_server({"/webhook": answer}, call))
        assert answer_ == {"authorization": aiohttp.BasicAuth("rasa", "s3cret").encode()}

    def test_the_packet_is_plain_json(self):
        json.dumps(context_packet(tracker(*CONVERSATION)))


if __name__ == "__main__":
    unittest.main()
