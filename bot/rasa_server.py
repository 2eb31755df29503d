"""What the project adds to Rasa's Sanic server, once, whichever of its channels Rasa loads.

Rasa offers custom code no hook into its server but the channels' blueprints, and both of
the project's channels attach these listeners (`attach_to`); each runs once per server.
"""

from __future__ import annotations

import functools
import gc
import logging
from typing import Any

import rasa.shared.utils.common
from rasa.engine.graph import GraphSchema
from sanic import Blueprint, Sanic

from bot.action_results import validate_action_results_once
from bot.action_timeout import close_action_calls, time_action_calls
from bot.past_states import replay_past_states
from bot.pushes import deliver_pushes_once
from bot.settings import bot_settings
from bot.tracker_store import require_a_database
from pii.masking import masker

logger = logging.getLogger(__name__)

# Every request to Rasa's server, channels and HTTP API alike (Sanic's default: 100 MB).
MAX_REQUEST_BYTES = 1_000_000


def attach_to(blueprint: Blueprint) -> None:
    """Prepare the server that serves `blueprint`, before it starts and once it has started."""
    blueprint.listener("before_server_start")(before_start)
    blueprint.listener("after_server_start")(after_start)
    blueprint.listener("after_server_stop")(after_stop)


async def before_start(app: Sanic, *_: Any) -> None:
    if _first_time(app, "before_start"):
        app.config.REQUEST_MAX_SIZE = MAX_REQUEST_BYTES
        cache_subclass_lookups()
        cache_minimal_graph_schemas()
        # A conversation's dialogue states worked out from its new events only (`bot.past_states`).
        replay_past_states()
        # The handoff server's pushes, each delivered once (`bot.pushes`).
        deliver_pushes_once(app, bot_settings().rasa_api_token)
        # The action server's answers checked by a validator built once (`bot.action_results`).
        validate_action_results_once()
        # Presidio and spaCy loaded now, not on a customer's first card number.
        masker()


async def after_start(app: Sanic, *_: Any) -> None:
    """Once the model is loaded: refuse to run without a tracker database, time action calls,
    then freeze the loaded objects."""
    if _first_time(app, "after_start"):
        require_a_database(app.ctx.agent.tracker_store)
        await time_action_calls(app)
        freeze_loaded_objects()


async def after_stop(app: Sanic, *_: Any) -> None:
    """Once the requests in hand are done: close the connections to the action server."""
    if _first_time(app, "after_stop"):
        await close_action_calls(app)


def _first_time(app: Sanic, step: str) -> bool:
    done: set[str] = app.ctx.__dict__.setdefault("lumen_prepared", set())
    if step in done:
        return False
    done.add(step)
    return True


def freeze_loaded_objects() -> None:
    """Keep the garbage collector off the millions of objects of the loaded model.

    Without this, every full collection walks TensorFlow's object graph and stalls a
    turn by 300-500 ms at random (seen in `make bench` as spikes of agent messages).
    """
    gc.collect()
    gc.freeze()
    logger.info(
        "Froze %d objects of the loaded model out of garbage collection.", gc.get_freeze_count()
    )


def cache_subclass_lookups() -> None:
    """Have Rasa find its event and slot classes by walking their subclasses once, not at
    every event it reads.

    Rasa reads a conversation's every stored event at each turn, and finds each one's class
    by walking all subclasses of Event, asking `inspect.isabstract` of each: a quarter of
    Rasa's time in a 100-turn conversation (py-spy). Every class is imported by now.
    """
    common = rasa.shared.utils.common
    if not hasattr(common.all_subclasses, "cache_info"):
        # all_subclasses looks itself up in its module as it recurses: cached all the way.
        common.all_subclasses = functools.cache(common.all_subclasses)


def cache_minimal_graph_schemas() -> None:
    """Have Rasa work out which nodes of its graph a run needs once per set of targets, not
    at every run.

    Rasa runs its graph three times in a FAQ turn (the message's NLU, then a prediction after
    each action), and each run walks the graph's dependencies again, recursively: 6% of
    Rasa's time on a FAQ turn (py-spy). A loaded model's graph never changes.
    """
    if hasattr(GraphSchema.minimal_graph_schema, "__wrapped__"):
        return
    walk = GraphSchema.minimal_graph_schema

    @functools.wraps(walk)
    def minimal_graph_schema(schema: GraphSchema, targets: list[str] | None = None) -> GraphSchema:
        known: dict[tuple[str, ...], GraphSchema] = schema.__dict__.setdefault(
            "lumen_minimal_schemas", {}
        )
        key = tuple(targets or ())
        if key not in known:
            known[key] = walk(schema, targets)
        return known[key]

    GraphSchema.minimal_graph_schema = minimal_graph_schema  # type: ignore[method-assign]
