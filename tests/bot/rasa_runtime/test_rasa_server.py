"""bot/rasa_server.py under Rasa's own runtime: a long conversation reads back cheaply."""

from __future__ import annotations

import inspect
import unittest
from typing import Any
from unittest import mock

import rasa.shared.utils.common
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, UserUttered

from bot.rasa_server import cache_subclass_lookups

TURNS = 100


def stored_conversation() -> list[dict[str, Any]]:
    """A conversation of TURNS questions and answers, as the tracker store keeps it."""
    events: list[Event] = []
    for turn in range(TURNS):
        events += [
            UserUttered(f"question {turn}", {"name": "nlu_fallback"}),
            ActionExecuted("action_answer_faq"),
            BotUttered(f"answer {turn}"),
            ActionExecuted("action_listen"),
        ]
    return [event.as_dict() for event in events]


class ReadingAConversationBack(unittest.TestCase):
    def test_each_event_class_is_found_once_not_at_every_event(self) -> None:
        cache_subclass_lookups()
        stored = stored_conversation()
        with mock.patch.object(inspect, "isabstract", wraps=inspect.isabstract) as asked:
            events = [Event.from_parameters(event) for event in stored]
        self.assertEqual([event.as_dict() for event in events], stored)
        # At most once per class; Rasa alone asks it of every class for every event.
        self.assertLess(asked.call_count, len(stored))

    def test_caching_twice_keeps_one_cache(self) -> None:
        cache_subclass_lookups()
        cached = rasa.shared.utils.common.all_subclasses
        cache_subclass_lookups()
        self.assertIs(rasa.shared.utils.common.all_subclasses, cached)
