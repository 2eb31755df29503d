"""Trackers, dispatchers and fakes for the action tests."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.faq.calibration import DecisionKind
from actions.faq.engine import Decision, FaqEngine, Hit
from actions.handoff_client import HandoffClient, HandoffConflict, HandoffUnavailable
from actions.settings import ActionSettings
from knowledge_base.faqs import Faq

REFUND = Faq(
    id="refund_timeline",
    question="How long does a refund take?",
    paraphrases=("when do i get my money back",),
    answer="Refunds reach your card within 10 working days.",
    tags=("refunds", "payments"),
    channels=("web",),
    buttons=({"title": "Cancellation fees", "payload": "What are the cancellation fees?"},),
)
FEES = Faq(
    id="cancellation_fees",
    question="What are the cancellation fees?",
    paraphrases=("cancel cost",),
    answer="Free up to 90 days before departure.",
    tags=("cancellation",),
    channels=("web",),
)
EMERGENCY = Faq(
    id="medical_emergency",
    question="There is a medical emergency",
    paraphrases=("help someone collapsed",),
    answer="Dial 911 from any ship phone now. I'm bringing in a person.",
    tags=("medical",),
    channels=("kiosk",),
    escalate=True,
)


def user_event(
    text: str, intent: str, confidence: float = 0.9, metadata: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "event": "user",
        "text": text,
        "timestamp": 1763800000.0,
        "metadata": metadata or {},
        "parse_data": {"intent": {"name": intent, "confidence": confidence}, "entities": []},
    }


def make_tracker(
    events: list[dict[str, Any]],
    slots: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
    message_id: str = "m-1",
) -> Tracker:
    """Build a tracker whose latest message is the last user event."""
    last_user = next(event for event in reversed(events) if event["event"] == "user")
    latest_message = {
        "text": last_user["text"],
        "intent": last_user["parse_data"]["intent"],
        "entities": entities or [],
        "message_id": message_id,
        "metadata": last_user.get("metadata", {}),
    }
    return Tracker("customer-1", slots or {}, latest_message, events, False, None, None, None)


class FakeEngine(FaqEngine):
    """Return a fixed decision, or raise, and record the channel asked.

    `question` says whether the FAQ claims a text the classifier gave a conversational intent.
    """

    def __init__(self, decision: Decision | Exception, question: bool = False) -> None:
        # A stand-in for the engine (typed as one): nothing of the real one is built.
        self.decision = decision
        self.question = question
        self.channels: list[str | None] = []

    def decide(self, text: str, channel: str | None = None) -> Decision:
        self.channels.append(channel)
        if isinstance(self.decision, Exception):
            raise self.decision
        return self.decision

    def is_question(self, decision: Decision, intent: str | None) -> bool:
        return self.question

    def embed(self, text: str) -> list[int]:
        """A stand-in embedding that says which text it is of: its length, then zeros."""
        return [len(text), 0, 0]


def not_a_question() -> FakeEngine:
    """Return an engine for which no text is an FAQ question: the intent's own reply runs."""
    return FakeEngine(Decision("none", []))


class FakeHandoffClient(HandoffClient):
    """Record what the actions send; answer like the handoff server, or fail."""

    def __init__(
        self,
        agents_online: int = 1,
        fail: bool = False,
        claimed: bool = False,
        ended: bool = False,
        expected_wait_s: int = 150,
    ) -> None:
        # A stand-in for the client (typed as one): no HTTP session is opened.
        self.agents_online = agents_online
        self.expected_wait_s = expected_wait_s
        self.fail = fail
        self.claimed = claimed  # an agent took the conversation: no offline message any more
        self.ended = ended  # the conversation ended on the team's side: no messages any more
        self.packets: list[dict[str, Any]] = []
        self.forwarded: list[tuple[Any, str, str | None]] = []
        self.forwarded_hits: list[list[dict[str, Any]] | None] = []
        self.messages_left: list[tuple[int, str, str]] = []
        self.unanswered: list[dict[str, Any]] = []
        self.decisions: list[dict[str, Any]] = []
        self.abandoned: list[int] = []
        self.ratings: list[tuple[int, int]] = []
        # What supervisors taught, as GET /api/faq-paraphrases serves it; and how often to ask.
        self.taught: list[dict[str, Any]] = []
        self.settings = ActionSettings(handoff_url="", handoff_service_token="")

    def create_handoff(self, packet: dict[str, Any]) -> dict[str, Any]:
        if self.fail:
            raise HandoffUnavailable("connection refused")
        self.packets.append(packet)
        return {
            "id": 7,
            "state": "queued",
            "position": 2,
            "expected_wait_s": self.expected_wait_s,
            "agents_online": self.agents_online,
        }

    def forward_customer_message(
        self,
        handoff_id: Any,
        text: str,
        idempotency_key: str | None,
        faq_hits: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        if self.fail:
            raise HandoffUnavailable("connection refused")
        if self.ended:
            raise HandoffConflict("conversation 7 is abandoned; it takes no customer messages")
        self.forwarded.append((handoff_id, text, idempotency_key))
        self.forwarded_hits.append(faq_hits)
        return {"seq": 3}

    def leave_offline_message(self, handoff_id: int, contact: str, text: str) -> dict[str, Any]:
        if self.fail:
            raise HandoffUnavailable("connection refused")
        if self.claimed:
            raise HandoffConflict("only queued conversations take offline messages")
        self.messages_left.append((handoff_id, contact, text))
        return {"state": "offline"}

    def abandon(self, handoff_id: int) -> dict[str, Any]:
        if self.fail:
            raise HandoffUnavailable("connection refused")
        self.abandoned.append(handoff_id)
        return {"state": "abandoned"}

    def record_unanswered(self, question: dict[str, Any]) -> dict[str, Any]:
        if self.fail:
            raise HandoffUnavailable("connection refused")
        self.unanswered.append(question)
        return {"id": len(self.unanswered), **question}

    def record_decision(self, decision: dict[str, Any]) -> dict[str, Any]:
        if self.fail:
            raise HandoffUnavailable("connection refused")
        self.decisions.append(decision)
        return {"id": len(self.decisions)}

    def taught_paraphrases(self, after: int, limit: int) -> list[dict[str, Any]]:
        if self.fail:
            raise HandoffUnavailable("connection refused")
        return [item for item in self.taught if item["id"] > after][:limit]

    def rate(self, handoff_id: int, rating: int) -> dict[str, Any]:
        self.ratings.append((handoff_id, rating))
        return {"rating": rating}


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


def decision(kind: DecisionKind, *faqs: Faq) -> Decision:
    return Decision(
        kind=kind, hits=[Hit(faq=faq, score=0.9 - 0.1 * n) for n, faq in enumerate(faqs)]
    )
