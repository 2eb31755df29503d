"""bot/rasa_server.py under Rasa's own runtime: a long conversation reads back cheaply."""

from __future__ import annotations

import inspect
import unittest
from typing import Any
from unittest import mock

import rasa.shared.utils.common
from rasa.engine.graph import GraphSchema, SchemaNode
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, UserUttered

from bot.rasa_server import cache_minimal_graph_schemas, cache_subclass_lookups

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


def graph() -> GraphSchema:
    """A graph of a few nodes, two targets sharing a dependency, as a trained model has."""

    def node(needs: dict[str, str], target: bool = False) -> SchemaNode:
        return SchemaNode(needs, WhitespaceTokenizer, "create", "process", {}, is_target=target)

    return GraphSchema(
        {
            "tokens": node({"messages": "__message__"}),
            "features": node({"messages": "tokens"}),
            "intent": node({"messages": "features"}, target=True),
            "prediction": node({"messages": "features", "tokens": "tokens"}, target=True),
            "unused": node({"messages": "tokens"}),
        }
    )


class RunningTheGraph(unittest.TestCase):
    def test_a_runs_nodes_are_worked_out_once_per_set_of_targets(self) -> None:
        cache_minimal_graph_schemas()
        schema = graph()
        walk = GraphSchema._all_dependencies_schema
        with mock.patch.object(GraphSchema, "_all_dependencies_schema", autospec=True) as walks:
            walks.side_effect = walk
            intent = schema.minimal_graph_schema(["intent"])
            walked = walks.call_count
            # Rasa alone walks the dependencies again at every run.
            self.assertIs(schema.minimal_graph_schema(["intent"]), intent)
            self.assertEqual(walks.call_count, walked)
            both = schema.minimal_graph_schema(["intent", "prediction"])
            self.assertGreater(walks.call_count, walked)
        self.assertEqual(list(intent.nodes), ["tokens", "features", "intent"])
        self.assertEqual(list(both.nodes), ["tokens", "features", "intent", "prediction"])
        self.assertEqual(both, walk_uncached(schema, ["intent", "prediction"]))

    def test_caching_twice_keeps_one_cache(self) -> None:
        cache_minimal_graph_schemas()
        cached = GraphSchema.minimal_graph_schema
        cache_minimal_graph_schemas()
        self.assertIs(GraphSchema.minimal_graph_schema, cached)


def walk_uncached(schema: GraphSchema, targets: list[str]) -> GraphSchema:
    """Rasa's own answer, from the method under the cache."""
    return GraphSchema.minimal_graph_schema.__wrapped__(schema, targets)  # type: ignore[attr-defined]
