"""bot/action_results.py under Rasa's own runtime: the same verdicts as Rasa's own check."""

from __future__ import annotations

import unittest
from typing import Any

from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from bot.action_results import validate_action_result

ANSWERS: list[dict[str, Any]] = [
    {"events": [], "responses": []},
    {
        "events": [{"event": "slot", "name": "faq_result", "value": {"kind": "answer"}}],
        "responses": [{"text": "Refunds reach your card within 10 working days."}],
    },
    {"events": [{"event": "slot"}], "responses": []},
    {"events": "not a list", "responses": []},
    {"events": [], "responses": ["not an object"]},
]


class ValidateActionResultTest(unittest.TestCase):
    def test_each_answer_gets_the_verdict_and_message_of_rasas_own_check(self) -> None:
        action = RemoteAction("action_answer_faq", None)
        for answer in ANSWERS:
            with self.subTest(answer=answer):
                self.assertEqual(
                    verdict(validate_action_result, action, answer),
                    verdict(RemoteAction._validate_action_result, action, answer),
                )

    def test_invalid_answers_are_refused(self) -> None:
        action = RemoteAction("action_answer_faq", None)
        refused = [a for a in ANSWERS if verdict(validate_action_result, action, a) != "valid"]
        self.assertEqual(len(refused), 3)


def verdict(check: Any, action: RemoteAction, answer: dict[str, Any]) -> str:
    try:
        check(action, answer)
    except ValidationError as error:
        return error.message
    return "valid"


if __name__ == "__main__":
    unittest.main()
