"""Simulated agents of a load run: the handoff API and its event stream, as the console uses them.

An agent follows the stream (resuming after the last event id when it drops, as the
browser does), takes the top of the queue, replies a few times with pauses, and resolves.
It records each reply it sent and every customer message its stream showed.
"""

from __future__ import annotations

import asyncio
import json
import random
from contextlib import suppress
from typing import Any

import aiohttp

from bench.accounting import tag_of, tagged
from bench.actors import Actor, Stage
from bench.customers import REST_SENDER_PREFIX
from bench.load import REQUEST_TIMEOUT_S, SseEvent, StreamStats, hold_stream

# The browser's EventSource waits this long before it reconnects (the stream's `retry:`).
RECONNECT_S = 3.0
IDLE_CHECK_S = 1.0
REACTION_S = (0.5, 2.0)
REPLIES = (
    "Thanks for waiting, I'm looking at your booking now.",
    "I can see the reservation; give me a moment to check the details.",
    "That's sorted on our side. Is there anything else?",
    "I've added a note so the team on board knows as well.",
)

# Counted apart from the ledger: Rasa takes them into the tracker but cannot show them.
UNDELIVERABLE_OVER_REST = "agent messages to a REST customer (the channel has no push)"


class Agent(Actor):
    """One agent: a bearer token, a stream, and one conversation at a time."""

    def __init__(
        self, index: int, stage: Stage, rng: random.Random, token: str, handoff_url: str
    ) -> None:
        super().__init__(index, stage, rng)
        self.token = token
        self.handoff_url = handoff_url
        self.queued: dict[int, int] = {}  # conversation id -> place in the queue
        self.senders: dict[int, str] = {}  # conversation id -> the customer's session id
        self.changed = asyncio.Event()
        self.stream_open = asyncio.Event()
        self.last_event_id: str | None = None

    def on_event(self, _stream: int, event: SseEvent, _arrived: float) -> None:
        """Follow the queue and record the customers' messages the stream shows."""
        if event.id is not None:
            self.last_event_id = event.id
        if event.event not in ("conversation", "message"):
            return
        data = json.loads(event.data)
        if event.event == "conversation":
            self.senders[data["id"]] = data["sender_id"]
            if data["state"] == "queued":
                self.queued[data["id"]] = data.get("position") or 0
            else:
                self.queued.pop(data["id"], None)
            self.changed.set()
        elif data["role"] == "customer" and (message := tag_of(data["text"])) is not None:
            sender = self.senders.get(data["conversation"])
            if sender is None:
                self.seen.errors["customer message of a conversation the stream never showed"] += 1
                return
            self.seen.stream_arrivals[self.index].arrived(sender, message, self.clock())

    async def follow_stream(self, session: aiohttp.ClientSession) -> None:
        """Hold the event stream until cancelled, reconnecting after the last event seen."""
        url = f"{self.handoff_url}/api/stream?token={self.token}"
        stats = StreamStats()
        while True:
            resume = f"&last_event_id={self.last_event_id}" if self.last_event_id else ""
            await hold_stream(
                session, url + resume, self.index, self.on_event, stats, self.stream_open
            )
            self.seen.errors["agent stream dropped"] += 1
            await asyncio.sleep(RECONNECT_S)

    async def call(
        self, session: aiohttp.ClientSession, method: str, path: str, body: Any = None
    ) -> tuple[int, Any]:
        """Call the handoff API as this agent; return the status (0: no answer) and the body."""
        try:
            async with session.request(
                method,
                f"{self.handoff_url}{path}",
                json=body,
                headers={"Authorization": f"Bearer {self.token}"},
                timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
            ) as response:
                answer = await response.json(content_type=None)
                return response.status, answer
        except (TimeoutError, aiohttp.ClientError, json.JSONDecodeError) as error:
            self.seen.errors[f"agent {method} {_route(path)}: {type(error).__name__}"] += 1
            return 0, None

    async def run(self, session: aiohttp.ClientSession) -> None:
        """Take queued conversations one at a time until the end of the run."""
        status, listed = await self.call(session, "GET", "/api/conversations?state=queued")
        for item in listed["conversations"] if status == 200 else []:
            self.senders[item["id"]] = item["sender_id"]
            self.queued[item["id"]] = item.get("position") or 0
        while self.running():
            if not self.queued:
                self.changed.clear()
                with suppress(TimeoutError):
                    await asyncio.wait_for(self.changed.wait(), IDLE_CHECK_S)
                continue
            # A person takes a moment between seeing the queue change and clicking.
            await asyncio.sleep(self.rng.uniform(*REACTION_S))
            if not self.queued:
                continue
            conversation = min(self.queued, key=lambda id_: (self.queued[id_], id_))
            self.queued.pop(conversation)
            status, _ = await self.call(session, "POST", f"/api/conversations/{conversation}/claim")
            if status == 200:
                await self.serve(session, conversation)
            elif status == 409:
                self.seen.events["claims lost to another agent"] += 1
            elif status:
                self.seen.errors[f"agent POST /claim HTTP {status}"] += 1

    async def serve(self, session: aiohttp.ClientSession, conversation: int) -> None:
        """Reply a few times with pauses, then resolve (at once when the run is over)."""
        sender = self.senders[conversation]
        self.seen.claimed_by[sender] = self.index
        self.seen.events["conversations claimed"] += 1
        path = f"/api/conversations/{conversation}"
        for number in range(1, self.plan.agent_replies + 1):
            await self.pause(self.plan.agent_pause_s)
            if not self.running():
                break
            message = f"a{self.index}-{conversation}-{number}"
            text = tagged(self.rng.choice(REPLIES), message)
            sent = self.clock()
            status, _ = await self.call(session, "POST", f"{path}/messages", {"text": text})
            if status == 201 and sender.startswith(REST_SENDER_PREFIX):
                self.seen.events[UNDELIVERABLE_OVER_REST] += 1
            elif status == 201:
                self.seen.agent_to_customer.sent(sender, message, sent)
            elif status:
                self.seen.errors[f"agent POST /messages HTTP {status}"] += 1
        await self.pause(self.plan.agent_pause_s)
        status, _ = await self.call(session, "POST", f"{path}/resolve", {})
        if status == 200:
            self.seen.events["conversations resolved"] += 1
        elif status:
            self.seen.errors[f"agent POST /resolve HTTP {status}"] += 1


def _route(path: str) -> str:
    """Name an API call by its last word (claim, messages, resolve) for the error counts."""
    return "/" + path.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
