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
    {
        "events": [
            {"event": "slot", "name": "handoff_offered", "value": False, "timestamp": None},
            {"event": "action", "name": "action_listen", "policy": None, "confidence": 1},
            {
                "event": "user",
                "text": "where is the spa",
                "parse_data": {"intent": {"name": "ask_question", "confidence": 0.9}},
            },
            {"event": "bot", "text": "Deck 4.", "metadata": {"utter_action": "utter_spa"}},
        ],
        "responses": [],
    },
    {"events": [{"event": "slot"}], "responses": []},
    {"events": "not a list", "responses": []},
    {"events": None, "responses": []},
    {"events": [], "responses": ["not an object"]},
    {"responses": [{"text": "No events at all."}]},
    {"events": [{"event": "no_such_kind"}], "responses": []},
    {"events": [{"event": ["slot"], "name": "a", "value": 1}], "responses": []},
    {"events": [{"name": "a", "value": 1}], "responses": []},
    {"events": ["slot"], "responses": []},
    {"events": [{"event": "slot", "name": "a", "value": 1, "timestamp": "noon"}], "responses": []},
    {"events": [{"event": "user", "parse_data": {"intent": {"confidence": "high"}}}]},
    {"events": [{"event": "action", "name": "action_listen"}, {"event": "slot"}]},
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
        self.assertEqual(len(refused), 11)


def verdict(check: Any, action: RemoteAction, answer: dict[str, Any]) -> str:
    try:
        check(action, answer)
    except ValidationError as error:
        return error.message
    return "valid"


if __name__ == "__main__":
    unittest.main()
