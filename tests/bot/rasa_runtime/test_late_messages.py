"""bot/late_messages.py under Rasa's own runtime: which messages go to the person who left."""

from __future__ import annotations

import unittest
from pathlib import Path

from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.late_messages import LATE_WINDOW_S, LateMessagePolicy
from lumen.vocabulary import FORWARD_LATE_ACTION, SHOWN_UNTIL

REPO_ROOT = Path(__file__).resolve().parents[3]
DOMAIN = Domain.load(str(REPO_ROOT / "bot" / "domain.yml"))
AGENT_SAID_AT = 1000.0
RESOLVED_AT = 1010.0
BOT_BACK_AT = 1010.5


def at(event: Event, timestamp: float) -> Event:
    event.timestamp = timestamp
    return event


def handoff_then_resolve() -> list[Event]:
    """A customer handed to Dana, who writes once and resolves; the bot says it is back."""
    return [
        ActionExecuted(ACTION_LISTEN_NAME),
        UserUttered("I want a person", {"name": "request_human"}),
        SlotSet("handoff_active", True),
        SlotSet("handoff_id", 7),
        ActionExecuted(ACTION_LISTEN_NAME),
        at(UserUttered.create_external("EXTERNAL_agent_message", []), AGENT_SAID_AT - 0.1),
        at(BotUttered("Hi, Dana here."), AGENT_SAID_AT),
        ActionExecuted(ACTION_LISTEN_NAME),
        at(UserUttered.create_external("EXTERNAL_handoff_resolved", []), RESOLVED_AT),
        ActionExecuted("action_handoff_resolved"),
        at(BotUttered("I'm back."), BOT_BACK_AT),
        SlotSet("handoff_active", False),
        SlotSet("handoff_id", None),
        SlotSet("rating_for", 7),
        ActionExecuted(ACTION_LISTEN_NAME),
    ]


def customer_writes(
    shown_until: object,
    events: list[Event] | None = None,
    arriving_at: float = BOT_BACK_AT + 2,
) -> DialogueStateTracker:
    """The conversation once the customer's message, saying what the page showed, arrived."""
    metadata = {} if shown_until is None else {SHOWN_UNTIL: shown_until}
    message = UserUttered("One more thing: cabin 214", {"name": "ask_question"}, metadata=metadata)
    return DialogueStateTracker.from_events(
        "customer-1",
        [*(handoff_then_resolve() if events is None else events), at(message, arriving_at)],
        slots=DOMAIN.slots,
    )


def predicted(tracker: DialogueStateTracker) -> str | None:
    policy = LateMessagePolicy(
        LateMessagePolicy.get_default_config(), None, None, ExecutionContext(GraphSchema({}))
    )
    prediction = policy.predict_action_probabilities(tracker, DOMAIN)
    if max(prediction.probabilities) == 0:
        return None
    return DOMAIN.action_names_or_texts[prediction.probabilities.index(1.0)]


class LateMessagePolicyTest(unittest.TestCase):
    def test_a_message_written_before_the_page_showed_the_resolve_goes_to_the_person(self) -> None:
        self.assertEqual(predicted(customer_writes(shown_until=AGENT_SAID_AT)), FORWARD_LATE_ACTION)

    def test_after_the_forward_the_bot_listens_without_a_word(self) -> None:
        tracker = customer_writes(shown_until=AGENT_SAID_AT)
        tracker.update(ActionExecuted(FORWARD_LATE_ACTION))
        self.assertEqual(predicted(tracker), ACTION_LISTEN_NAME)

    def test_a_message_written_after_the_page_showed_the_bot_back_is_the_bots(self) -> None:
        self.assertIsNone(predicted(customer_writes(shown_until=BOT_BACK_AT)))

    def test_a_message_that_does_not_say_when_it_was_written_is_the_bots(self) -> None:
        self.assertIsNone(predicted(customer_writes(shown_until=None)))
        self.assertIsNone(predicted(customer_writes(shown_until=True)))
        self.assertIsNone(predicted(customer_writes(shown_until="1000")))

    def test_long_after_the_resolve_a_page_that_slept_through_it_gets_the_bot(self) -> None:
        late = RESOLVED_AT + LATE_WINDOW_S + 1
        self.assertIsNone(predicted(customer_writes(shown_until=AGENT_SAID_AT, arriving_at=late)))

    def test_without_an_ended_handoff_every_message_is_the_bots(self) -> None:
        self.assertIsNone(predicted(customer_writes(shown_until=0.0, events=[])))

    def test_while_a_person_holds_the_conversation_the_rules_forward_it(self) -> None:
        events = [*handoff_then_resolve(), SlotSet("handoff_active", True)]
        self.assertIsNone(predicted(customer_writes(shown_until=AGENT_SAID_AT, events=events)))


if __name__ == "__main__":
    unittest.main()
