"""Simulated customers of a load run: on the widget's socket.io, or on Rasa's REST channel.

Each asks FAQ questions with exponential pauses and waits for the bot's reply; some
socket.io customers ask for a person once, write to them while they hold the conversation,
and go back to questions when the bot says it is back. Everything they send and see goes
into the run's `Observations`.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence
from typing import Any

import aiohttp
import socketio

from bench.accounting import tag_of, tagged
from bench.actors import Actor, Stage
from bench.turns import Turn
from scripts.kb_questions import response_text
from scripts.stack import REPO_ROOT
from scripts.widget_socket import AsyncWidgetSocket

# Rasa's REST channel answers in the response to a message: it has no way to push what an
# agent writes later. A REST customer's sender id starts with this.
REST_SENDER_PREFIX = "load-rest-"
ASK_FOR_PERSON = "I want to talk to a person"
# The start of what the bot says (bot/domain.yml, actions/handoff.py) at each step of a handoff.
HANDED_OFF = "I'm bringing in a person"
BOT_FAILED = "Sorry, something went wrong on my side"  # and a person takes over
BOT_BACK = "I'm back"
# Said before the answer when a turn runs long (bot/busy.py): counted, not taken for the answer.
BUSY = response_text(REPO_ROOT / "bot" / "domain.yml", "utter_busy")
BUSY_EVENT = "replies preceded by 'the bot is busy'"
# A busy Rasa refuses a message at once (bot/overload.py); the customer sends it again.
REFUSED_EVENT = "messages refused as busy, sent again"
CUSTOMER_VISIBLE_ERRORS = {
    "Sorry, I can't reach our team": "customer told the team is unreachable",
    BOT_FAILED: "customer told the bot failed (handed off)",
    "Nobody from our team is available": "customer told nobody is on duty",
    response_text(REPO_ROOT / "bot" / "domain.yml", "utter_ask_again"): (
        "customer asked to write again (the answer came too late)"
    ),
}
# What a customer writes to the person while waiting for them or talking to them.
TO_PERSON = (
    "My booking reference is LR204518.",
    "We are two adults travelling in June.",
    "I already tried the website twice.",
    "Could you also check the cabin upgrade?",
    "Thanks, I'm still here.",
)


class Customer(Actor):
    """What every customer shares: the knowledge base's questions and how answers count."""

    def __init__(self, index: int, stage: Stage, rng: random.Random, turns: Sequence[Turn]):
        super().__init__(index, stage, rng)
        self.turns = turns
        self.unasked: list[Turn] = []

    def next_turn(self) -> Turn:
        """Pick a question of the knowledge base this customer has not asked yet.

        A customer asks again only when the answer did not help, and the bot reads a repeat
        as frustration (actions/escalation.py): at random, most customers of a five-minute run
        repeated themselves, and many were handed to a person they never asked for.
        """
        if not self.unasked:
            self.unasked = self.rng.sample(list(self.turns), len(self.turns))
        return self.unasked.pop()

    def count_refusal(self, refusal: Any) -> None:
        """Count a message Rasa refused, by why: busy (bot/overload.py) or over a chat limit."""
        error = refusal.get("error") if isinstance(refusal, dict) else None
        self.seen.events[REFUSED_EVENT if error == "busy" else f"messages refused: {error}"] += 1

    def record_answer(
        self,
        asked: float,
        channel: str,
        turn: Turn,
        replies: list[str],
        answered_at: float | None,
    ) -> None:
        """Record how long the first reply took (None: no reply) and whether it answered."""
        latency = answered_at - asked if replies and answered_at is not None else None
        self.seen.questions.append((asked, latency, channel))
        if replies and not any(reply.startswith(turn.expected) for reply in replies):
            self.seen.misanswers[replies[0][:60]] += 1


class RestCustomer(Customer):
    """A customer whose every message is a POST to /webhooks/rest/webhook, answered in place."""

    async def run(self, session: aiohttp.ClientSession, rasa_url: str) -> None:
        """Ask questions until the end of the run."""
        sender = f"{REST_SENDER_PREFIX}{self.index}-{self.rng.getrandbits(32):08x}"
        await asyncio.sleep(self.rng.uniform(0, self.plan.ramp_s))
        timeout = aiohttp.ClientTimeout(total=self.plan.reply_timeout_s)
        while self.running():
            turn = self.next_turn()
            self.seen.events["REST questions"] += 1
            asked, replies = await self.ask(session, rasa_url, sender, turn.text, timeout)
            self.record_answer(asked, "rest", turn, replies, self.clock())
            await self.pause(self.plan.customer_pause_s)

    async def ask(
        self,
        session: aiohttp.ClientSession,
        rasa_url: str,
        sender: str,
        text: str,
        timeout: aiohttp.ClientTimeout,
    ) -> tuple[float, list[str]]:
        """POST a question until Rasa takes it; return when it was last sent and the replies.

        A 429 (Rasa busy, or the chat limits) is waited out as Retry-After says, as a person
        would before sending again.
        """
        while True:
            asked = self.clock()
            try:
                async with session.post(
                    f"{rasa_url}/webhooks/rest/webhook",
                    json={"sender": sender, "message": text, "metadata": {"channel": "web"}},
                    timeout=timeout,
                ) as response:
                    if response.status == 429:
                        body = await response.json(content_type=None)
                        wait_s = float(response.headers.get("Retry-After") or 1)
                    else:
                        if response.status != 200:
                            self.seen.errors[f"REST answered HTTP {response.status}"] += 1
                        replies = await response.json() if response.status == 200 else []
                        texts = [str(r.get("text", "")) for r in replies if isinstance(r, dict)]
                        return asked, texts
            except TimeoutError:
                self.seen.errors["REST no answer in time"] += 1
                return asked, []
            except aiohttp.ClientError as error:
                self.seen.errors[f"REST {type(error).__name__}"] += 1
                return asked, []
            self.count_refusal(body)
            if not self.running():
                return asked, []
            await asyncio.sleep(wait_s)


class SocketCustomer(Customer):
    """A customer on the widget's socket.io connection, who may ask for a person once.

    What it sees decides what it does, as for a person at the widget: once the bot says a
    person is coming (asked for or not), it writes to them until the bot says it is back.
    """

    def __init__(self, *args: Any, wants_person: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.wants_person = wants_person
        self.replies: asyncio.Queue[tuple[float, str]] = asyncio.Queue()
        self.held = asyncio.Event()  # a person holds the conversation, as far as it knows
        self.socket: AsyncWidgetSocket | None = None
        self.sent_to_person = 0
        self.done_talking = asyncio.Event()  # set once it writes no more, whatever the reason

    @property
    def session_id(self) -> str:
        assert self.socket is not None
        return self.socket.session_id

    def on_reply(self, payload: dict[str, Any]) -> None:
        """Sort what arrives: an agent's words, a handoff's start or end, or a bot reply."""
        arrived = self.clock()
        text = str(payload.get("text", ""))
        if text == BUSY:
            self.seen.events[BUSY_EVENT] += 1
            return
        message = tag_of(text)
        if message is not None:
            self.seen.agent_to_customer.arrived(self.session_id, message, arrived)
            return
        if text.startswith(HANDED_OFF) or text.startswith(BOT_FAILED):
            self.held.set()
            self.seen.events["handoffs confirmed to the customer"] += 1
        elif text.startswith(BOT_BACK):
            self.held.clear()
            self.seen.events["handoffs ended (customer saw the bot back)"] += 1
        for start, error in CUSTOMER_VISIBLE_ERRORS.items():
            if text.startswith(start):
                self.seen.errors[error] += 1
        self.replies.put_nowait((arrived, text))

    def on_drop(self) -> None:
        """Count a dropped connection (the socket reconnects by itself, as the widget does)."""
        self.seen.errors["customer socket dropped"] += 1
        if self.socket is not None and self.socket.session_id:
            self.seen.drops[self.session_id].append(self.clock())

    async def run(self, session: aiohttp.ClientSession, rasa_url: str, stop: asyncio.Event) -> None:
        """Connect, talk until the end of the run, and listen until `stop` (the drain's end)."""
        await asyncio.sleep(self.rng.uniform(0, self.plan.ramp_s))
        self.socket = AsyncWidgetSocket(
            rasa_url,
            self.on_reply,
            page_url="https://lumen-river.example/load",
            on_drop=self.on_drop,
            http=session,
        )
        try:
            await self._talk()
        finally:
            self.done_talking.set()
        try:
            await stop.wait()
        finally:
            await self.socket.close()

    async def _talk(self) -> None:
        assert self.socket is not None
        try:
            await self.socket.open()
        except (TimeoutError, socketio.exceptions.SocketIOError) as error:
            self.seen.errors[f"customer socket did not connect: {type(error).__name__}"] += 1
            return
        try:
            await self.converse()
        except (TimeoutError, socketio.exceptions.SocketIOError) as error:
            # The socket stayed down longer than the widget would wait: this customer gives up.
            self.seen.errors[f"customer gave up, socket down: {type(error).__name__}"] += 1

    async def converse(self) -> None:
        """Ask questions, write to a person while one holds the conversation, ask for one once."""
        ask_for_person_after = self.rng.randint(0, 3) if self.wants_person else None
        steps = 0
        while self.running():
            if self.held.is_set():
                await self.write_to_person()
            elif steps == ask_for_person_after:
                if not await self.hand_off():
                    return  # the bot is taking a message or failed: leave it be
            else:
                turn = self.next_turn()
                sent = await self.say(turn.text)
                if sent is None:
                    return  # the run ended while Rasa was refusing it
                answered_at, replies = await self.wait_for_reply(sent)
                self.record_answer(sent, "socket", turn, replies, answered_at)
            steps += 1
            await self.pause(self.plan.customer_pause_s)

    async def say(self, text: str, still_meant: Callable[[], bool] = lambda: True) -> float | None:
        """Send a message until Rasa takes it; return when it was sent the last time.

        A refused message is sent again after the wait Rasa asked for, as a person at the
        widget would, as long as it still means what it did (`still_meant`); None if the run
        ended first or it no longer does.
        """
        assert self.socket is not None
        self.seen.events["socket messages"] += 1
        while self.running() and still_meant():
            sent = self.clock()
            refused = await self.socket.say(text, self.plan.reply_timeout_s)
            if refused is None:
                return sent
            self.count_refusal(refused)
            await asyncio.sleep(float(refused.get("retry_after_s") or 1))
        return None

    async def wait_for_reply(self, since: float) -> tuple[float | None, list[str]]:
        """Return when the first reply after `since` arrived, and its text (None and none: no
        reply in time)."""
        deadline = since + self.plan.reply_timeout_s
        while (remaining := deadline - self.clock()) > 0:
            try:
                arrived, text = await asyncio.wait_for(self.replies.get(), remaining)
            except TimeoutError:
                break
            if arrived >= since:
                return arrived, [text]
        return None, []

    async def hand_off(self) -> bool:
        """Ask for a person; return whether the bot confirmed the handoff in time."""
        self.seen.events["handoffs asked for"] += 1
        sent = await self.say(ASK_FOR_PERSON)
        if sent is None:
            return False
        replies = ["no reply"]
        # Skip a late answer to an earlier question: the confirmation may follow it.
        while not self.held.is_set() and (reply := (await self.wait_for_reply(sent))[1]):
            replies = reply
        if self.held.is_set():
            return True
        self.seen.errors[f"handoff not confirmed: {replies[-1][:40]}"] += 1
        return False

    async def write_to_person(self) -> None:
        """Write one message to the person (unless the bot said meanwhile that it is back)."""
        if not self.held.is_set():
            return
        self.sent_to_person += 1
        message = f"{self.session_id}-{self.sent_to_person}"
        text = tagged(self.rng.choice(TO_PERSON), message)
        # Written while a person holds the conversation: once Rasa took it, it must reach them.
        # Refused (busy), it is not sent again once the bot said it is back: the customer would
        # not, and the page, which has shown the bot back, would send it to the bot.
        sent = await self.say(text, still_meant=self.held.is_set)
        if sent is not None:
            self.seen.customer_sent.sent(self.session_id, message, sent)
