"""Account for every message of a load run: what each side sent, what the other side saw.

A message is written on one side and read on the other (customer to agent, agent to
customer). A `Ledger` keeps, per conversation, the ids in the order they were written and
every arrival in the order it happened; `tally` turns the two into what a user would notice:
a message that never arrived (lost), arrived twice (doubled) or after a later one (out of
order). Pure bookkeeping, no I/O, so the rules are tested on their own.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, fields

# Every message a load writes to a person ends with its id, so the reader's side can tell it.
_TAG = re.compile(r"\(#([0-9a-z-]+)\)$")


def tagged(text: str, message: str) -> str:
    """Return `text` carrying the message id `message`."""
    return f"{text} (#{message})"


def tag_of(text: str) -> str | None:
    """Return the message id a text carries, or None for any other text."""
    found = _TAG.search(text.strip())
    return found.group(1) if found else None


@dataclass(frozen=True)
class Tally:
    """What happened to the messages of one direction."""

    sent: int = 0
    delivered: int = 0
    lost: int = 0
    doubled: int = 0
    out_of_order: int = 0
    unexpected: int = 0  # arrivals of ids nobody recorded as sent

    def __add__(self, other: Tally) -> Tally:
        return Tally(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    @property
    def consistent(self) -> bool:
        """Return whether every message sent is counted as delivered or lost, once."""
        return self.delivered + self.lost == self.sent and 0 <= self.doubled <= self.delivered


def tally(sent: Sequence[str], received: Sequence[str]) -> Tally:
    """Compare one conversation's messages in the order written with their arrivals.

    A message is out of order when it arrives after a message written later than it has
    already arrived; doubled when it arrives more than once (counted once however often).
    """
    position = {message: index for index, message in enumerate(sent)}
    copies = Counter(received)
    latest = -1
    out_of_order = 0
    for message in dict.fromkeys(received):  # first arrivals, in arrival order
        if message not in position:
            continue
        if position[message] < latest:
            out_of_order += 1
        latest = max(latest, position[message])
    delivered = sum(1 for message in sent if copies[message])
    return Tally(
        sent=len(sent),
        delivered=delivered,
        lost=len(sent) - delivered,
        doubled=sum(1 for message in sent if copies[message] > 1),
        out_of_order=out_of_order,
        unexpected=sum(count for message, count in copies.items() if message not in position),
    )


@dataclass
class Ledger:
    """Messages of one direction, per conversation: when each was written and each arrival."""

    sent_at: dict[str, dict[str, float]] = field(default_factory=lambda: defaultdict(dict))
    arrivals: dict[str, list[tuple[str, float]]] = field(default_factory=lambda: defaultdict(list))

    def sent(self, conversation: str, message: str, at: float) -> None:
        """Record that a message was written (and accepted), in the order written."""
        self.sent_at[conversation][message] = at

    def arrived(self, conversation: str, message: str, at: float) -> None:
        """Record that the reader's side showed a message."""
        self.arrivals[conversation].append((message, at))

    def tally(self) -> Tally:
        """Return the tally over every conversation."""
        total = Tally()
        for conversation in self.sent_at.keys() | self.arrivals.keys():
            sent = list(self.sent_at.get(conversation, {}))
            received = [message for message, _ in self.arrivals.get(conversation, [])]
            total += tally(sent, received)
        return total

    def undelivered(self) -> int:
        """Return how many messages sent have not arrived yet."""
        return sum(
            len(sent.keys() - {message for message, _ in self.arrivals.get(conversation, [])})
            for conversation, sent in self.sent_at.items()
        )

    def missing(self) -> list[tuple[str, str, float]]:
        """Return (conversation, message, written at) of every message that has not arrived."""
        return sorted(
            (conversation, message, at)
            for conversation, sent in self.sent_at.items()
            for message, at in sent.items()
            if message not in {arrived for arrived, _ in self.arrivals.get(conversation, [])}
        )

    def latencies(self) -> list[tuple[float, float]]:
        """Return (written at, seconds until its first arrival) of every delivered message."""
        pairs = []
        for conversation, arrivals in self.arrivals.items():
            sent = self.sent_at.get(conversation, {})
            for message, at in dict(reversed(arrivals)).items():  # the first arrival of each
                if message in sent:
                    pairs.append((sent[message], at - sent[message]))
        return sorted(pairs)


@dataclass
class Observations:
    """Everything a load run saw, from both sides, with times in seconds since it started."""

    agent_to_customer: Ledger = field(default_factory=Ledger)
    # Customer messages written while a person held the conversation, as far as the customer
    # had seen (even as the agent resolved: bot.late_messages); where they arrived is known
    # per agent's stream, and only the stream of the agent who took it counts.
    customer_sent: Ledger = field(default_factory=Ledger)
    stream_arrivals: dict[int, Ledger] = field(default_factory=lambda: defaultdict(Ledger))
    claimed_by: dict[str, int] = field(default_factory=dict)
    # (asked at, seconds until the first reply or None for no reply, channel)
    questions: list[tuple[float, float | None, str]] = field(default_factory=list)
    misanswers: Counter[str] = field(default_factory=Counter)  # replies that were not the FAQ's
    errors: Counter[str] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)
    # When each conversation's socket dropped: what to compare a lost message's time with.
    drops: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def customer_to_agent(self) -> Ledger:
        """Return the customers' messages with their arrivals on the stream of their agent."""
        ledger = Ledger()
        for conversation, sent in self.customer_sent.sent_at.items():
            # Never claimed: any agent's console shows the queued conversation; take the first.
            stream = self.stream_arrivals[self.claimed_by.get(conversation, 0)]
            ledger.sent_at[conversation] = sent
            ledger.arrivals[conversation] = stream.arrivals.get(conversation, [])
        return ledger

    def unanswered(self) -> int:
        """Return how many questions got no reply."""
        return sum(latency is None for _, latency, _ in self.questions)
