"""bot/pushes.py under Rasa's own runtime: which pushes a conversation has had already."""

from __future__ import annotations

import unittest

from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.pushes import was_delivered
from lumen.vocabulary import PUSH_ID


def pushed(intent: str, push_id: str, **entities: str) -> UserUttered:
    """The event Rasa's trigger_intent records for a push."""
    entity_list = [{"entity": name, "value": value} for name, value in entities.items()]
    return UserUttered.create_external(
        intent, [*entity_list, {"entity": PUSH_ID, "value": push_id}], "socketio"
    )


class WasDeliveredTest(unittest.TestCase):
    def test_a_push_in_the_tracker_was_delivered_and_another_was_not(self) -> None:
        tracker = DialogueStateTracker.from_events(
            "customer-1",
            [
                UserUttered("I want a person", {"name": "request_human"}),
                pushed("EXTERNAL_agent_joined", "3-1700000000000", agent_name="Dana"),
                pushed("EXTERNAL_agent_message", "4-1700000000001", agent_message="Hi"),
            ],
        )

        self.assertTrue(was_delivered(tracker, "4-1700000000001"))
        self.assertTrue(was_delivered(tracker, "3-1700000000000"))
        self.assertFalse(was_delivered(tracker, "5-1700000000002"))

    def test_a_customer_typing_an_id_is_not_a_push(self) -> None:
        tracker = DialogueStateTracker.from_events(
            "customer-1", [UserUttered("4-1700000000001", {"name": "ask_question"})]
        )

        self.assertFalse(was_delivered(tracker, "4-1700000000001"))


if __name__ == "__main__":
    unittest.main()
