"""The dialogue states of a conversation worked out once per event, not at every prediction.

Rasa's policies predict from the conversation's states: the state before each action of its
whole history. Each policy asks for them at each prediction (5 times in a FAQ turn: the rule
policy twice and memoization once, at each of the turn's 2 predictions), and Rasa replays the
whole history every time. So a turn grew dearer with every turn before it: in a 70-turn
conversation the replays were half of Rasa's time (cProfile), and Rasa's CPU per turn went
from 42 ms (turns 1-25) to 129-147 ms (turns 75-100).

This keeps, per conversation and kind of ask, the replay so far: the tracker replayed through
the applied events it has seen and the state before each of their actions. An ask whose
applied events begin with those, and that brings no event changing what Rasa makes of earlier
ones (an undone turn or action, a restart, a new session, entities added to the message
before, a loop), replays only the new ones; any other starts over. An event is told from
another by its class and timestamp: Rasa stamps each event as it makes it and only ever adds
events, so the same rows read back match. Only served conversations are kept: not the trackers
of training, nor the one-off trackers of Rasa's `/model/predict` (all named "default").

The loop below is Rasa's `Domain.states_for_tracker_history` (3.6), made to resume. Rasa's
featurizers edit the states they are given, so each ask gets copies.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rasa.shared.constants import DEFAULT_SENDER_ID
from rasa.shared.core.constants import PREVIOUS_ACTION
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    EntitiesAdded,
    Event,
    Restarted,
    SessionStarted,
    UserUtteranceReverted,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.common import all_subclasses

from bot.tracker_store import KEPT_EVENTS

# (omit_unset_slots, ignore_rule_only_turns, the rule-only slots and loops ignored)
Options = tuple[bool, bool, Any]
# Events that change what Rasa makes of the events before them (`applied_events`, and
# `EntitiesAdded`, which adds to the message before it).
REWRITING = frozenset(
    kind
    for rewriting in (
        UserUtteranceReverted,
        ActionReverted,
        Restarted,
        SessionStarted,
        EntitiesAdded,
        ActiveLoop,
    )
    for kind in (rewriting, *all_subclasses(rewriting))
)


@dataclass
class Replay:
    """A conversation's applied events seen so far, replayed, and the states before each of
    their actions (those a policy that ignores rule-only turns does not hide)."""

    domain: Domain
    options: Options
    tracker: DialogueStateTracker
    rewritings: int
    seen: list[tuple[type, float]] = field(default_factory=list)
    states: list[State] = field(default_factory=list)
    # Rasa's loop variables, as they were after the last action.
    last_ml_action: dict[str, Any] | None = None
    turn_was_hidden: bool = False

    @classmethod
    def start(
        cls, domain: Domain, options: Options, tracker: DialogueStateTracker, rewritings: int
    ) -> Replay:
        """Start replaying `tracker`'s conversation from its beginning (`init_copy`'s)."""
        # The replay reads no event back (it is only given applied ones): it need keep none.
        empty = DialogueStateTracker(
            tracker.sender_id or DEFAULT_SENDER_ID,
            tracker.slots.values(),
            max_event_history=1,
            is_rule_tracker=tracker.is_rule_tracker,
        )
        return cls(domain, options, empty, rewritings)

    def continues(self, domain: Domain, applied: list[Event], rewritings: int) -> bool:
        """Whether `applied` begins with the events seen, for the same domain, and no event
        rewriting earlier ones came since."""
        return (
            domain is self.domain
            and rewritings == self.rewritings
            and self.seen == [known(event) for event in applied[: len(self.seen)]]
        )

    def extend(self, events: Iterable[Event]) -> None:
        """Replay `events`, adding the state before each action."""
        for event in events:
            if isinstance(event, ActionExecuted):
                self._add_state(event.hide_rule_turn)
            self.tracker.update(event)
            self.seen.append(known(event))

    def past_states(self) -> list[State]:
        """Return copies of the states, and of the state after the last event."""
        kept = (self.last_ml_action, self.turn_was_hidden, len(self.states))
        self._add_state(hide_rule_turn=False)
        states = copy_states(self.states)
        self.last_ml_action, self.turn_was_hidden, count = kept
        del self.states[count:]
        return states

    def _add_state(self, hide_rule_turn: bool) -> None:
        domain, tracker = self.domain, self.tracker
        omit_unset_slots, ignore_rule_only_turns, rule_only_data = self.options
        if ignore_rule_only_turns:
            # the previous ml action, from the last turn not hidden
            if not self.turn_was_hidden:
                self.last_ml_action = domain._get_prev_action_sub_state(tracker)
            # a followup action or a loop's happy path keeps the turn as hidden as it was
            if not tracker.followup_action and tracker.latest_action_name != (
                tracker.active_loop_name
            ):
                self.turn_was_hidden = hide_rule_turn
            if self.turn_was_hidden:
                return
        state = domain.get_active_state(tracker, omit_unset_slots=omit_unset_slots)
        if ignore_rule_only_turns:
            domain._remove_rule_only_features(state, rule_only_data)
            if self.states:
                domain._substitute_rule_only_user_input(state, self.states[-1])
            if self.last_ml_action:
                state[PREVIOUS_ACTION] = self.last_ml_action
        self.states.append(domain._clean_state(state))


def known(event: Event) -> tuple[type, float]:
    """What tells `event` from another event of the conversation."""
    return type(event), event.timestamp


def copy_states(states: list[State]) -> list[State]:
    """Copy `states` and their parts (intent, slots, action, loop), keeping parts shared
    between states shared, as Rasa's own states share them."""
    copies: dict[int, Any] = {}

    def copied(part: Any) -> Any:
        if not isinstance(part, dict):
            return part
        if id(part) not in copies:
            copies[id(part)] = dict(part)
        return copies[id(part)]

    return [{kind: copied(part) for kind, part in state.items()} for state in states]


class Replays:
    """The replays of the conversations asked about last, KEPT_EVENTS events at most.

    Rasa asks on its event loop, and may train or test in a thread of the same process.
    """

    def __init__(self, kept_events: int = KEPT_EVENTS) -> None:
        self.kept_events = kept_events
        self._replays: OrderedDict[tuple[Any, ...], Replay] = OrderedDict()
        self._seen = 0
        self._lock = threading.Lock()

    def past_states(
        self,
        domain: Domain,
        tracker: DialogueStateTracker,
        omit_unset_slots: bool = False,
        ignore_rule_only_turns: bool = False,
        rule_only_data: dict[str, Any] | None = None,
    ) -> list[State]:
        """Return what Rasa's `Domain.states_for_tracker_history` returns."""
        if type(tracker) is not DialogueStateTracker or tracker.sender_id in UNSERVED:
            return RASAS_OWN(
                domain, tracker, omit_unset_slots, ignore_rule_only_turns, rule_only_data
            )
        ignored = rule_only_data if ignore_rule_only_turns else None
        options = (omit_unset_slots, ignore_rule_only_turns, ignored)
        key = (tracker.sender_id, repr(options))
        applied = tracker.applied_events()
        rewritings = sum(type(event) in REWRITING for event in tracker.events)
        with self._lock:
            replay = self._forget(key)
            if replay is None or not replay.continues(domain, applied, rewritings):
                replay = Replay.start(domain, options, tracker, rewritings)
            replay.extend(applied[len(replay.seen) :])
            self._replays[key] = replay
            self._seen += len(replay.seen)
            while self._seen > self.kept_events:
                self._forget(next(iter(self._replays)))
            return replay.past_states()

    def _forget(self, key: tuple[Any, ...]) -> Replay | None:
        replay = self._replays.pop(key, None)
        if replay is not None:
            self._seen -= len(replay.seen)
        return replay


RASAS_OWN = Domain.states_for_tracker_history
# Trackers of no conversation: Rasa's `/model/predict` names its one-off trackers "default".
UNSERVED = (None, DEFAULT_SENDER_ID)
REPLAYS = Replays()


def states_for_tracker_history(domain: Domain, *args: Any, **kwargs: Any) -> list[State]:
    """Return the states of a tracker's history, as Rasa's method of this name does."""
    return REPLAYS.past_states(domain, *args, **kwargs)


def replay_past_states() -> None:
    """Have Rasa's domains work out a conversation's states from its new events only."""
    Domain.states_for_tracker_history = states_for_tracker_history  # type: ignore[method-assign]
