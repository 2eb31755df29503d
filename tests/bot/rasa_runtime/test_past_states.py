"""bot/past_states.py under Rasa's own runtime: the states kept and extended are, at every
event of a conversation, exactly the states Rasa's own replay works out."""

from __future__ import annotations

import itertools
import sys
import threading
import unittest
from pathlib import Path
from typing import Any

from rasa.shared.constants import DEFAULT_SENDER_ID
from rasa.shared.core.constants import (
    ACTION_LISTEN_NAME,
    ACTION_SESSION_START_NAME,
    RULE_ONLY_LOOPS,
    RULE_ONLY_SLOTS,
)
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActionReverted,
    ActiveLoop,
    AllSlotsReset,
    BotUttered,
    DefinePrevUserUtteredFeaturization,
    EntitiesAdded,
    Event,
    FollowupAction,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot import past_states
from bot.past_states import Replays
from bot.tracker_store import shallow_copy

REPO_ROOT = Path(__file__).resolve().parents[3]
DOMAIN = Domain.load(str(REPO_ROOT / "bot" / "domain.yml"))
RASAS_OWN = Domain.states_for_tracker_history
SENDER = "customer-1"
RULE_ONLY = {RULE_ONLY_SLOTS: ["handoff_offered"], RULE_ONLY_LOOPS: ["survey"]}
# The policies' asks (the rule policy, memoization), and one leaving unset slots out.
ASKS: list[dict[str, Any]] = [
    {"rule_only_data": RULE_ONLY},
    {"ignore_rule_only_turns": True, "rule_only_data": RULE_ONLY},
    {"omit_unset_slots": True},
]


def user(text: str, intent: str, entities: list[dict] | None = None) -> list[Event]:
    """A customer's message, as Rasa logs it after its first prediction."""
    return [
        ActionExecuted(ACTION_LISTEN_NAME),
        UserUttered(text, {"name": intent}, entities or []),
        DefinePrevUserUtteredFeaturization(False),
    ]


def conversation() -> list[Event]:
    """A conversation through every kind of event that changes Rasa's states: rule-only
    turns, slots, a followup action, a loop, undone turns and actions, a restart."""
    events = [
        ActionExecuted(ACTION_SESSION_START_NAME),
        SessionStarted(),
        *user("hi", "greet"),
        ActionExecuted("action_small_talk"),
        BotUttered("Hello"),
        # Entities added to the message before, as Rasa's API may while the bot listens.
        ActionExecuted(ACTION_LISTEN_NAME),
        EntitiesAdded([{"entity": "email", "value": "c@d.co"}]),
        *user("when is breakfast?", "nlu_fallback"),
        ActionExecuted("action_answer_faq", hide_rule_turn=True),
        BotUttered("From 7 to 10."),
        SlotSet("handoff_offered", True),
        ActionExecuted(ACTION_LISTEN_NAME, hide_rule_turn=True),
        UserUttered("no thanks", {"name": "deny"}),
        DefinePrevUserUtteredFeaturization(True),
        ActionExecuted("action_small_talk"),
        *user("mail me at a@b.co", "inform", [{"entity": "email", "value": "a@b.co"}]),
        SlotSet("customer_email", "a@b.co"),
        FollowupAction("action_remember_customer"),
        ActionExecuted("action_remember_customer", hide_rule_turn=True),
        ActiveLoop("survey"),
        ActionExecuted("survey"),
        *user("what?", "nlu_fallback"),
        ActionExecutionRejected("survey"),
        ActionExecuted("survey", hide_rule_turn=True),
        ActiveLoop(None),
        *user("oops", "greet"),
        UserUtteranceReverted(),
        *user("a person please", "request_human"),
        ActionExecuted("action_handoff"),
        SlotSet("handoff_active", True),
        ActionReverted(),
        ActionExecuted("action_handoff"),
        SlotSet("handoff_active", True),
        SlotSet("handoff_id", 7),
        AllSlotsReset(),
        *user("start again", "greet"),
        Restarted(),
        *user("hello again", "greet"),
        ActionExecuted("action_small_talk", hide_rule_turn=True),
        ActionExecuted(ACTION_SESSION_START_NAME),
        SessionStarted(),
        SlotSet("handoff_offered", True),
        *user("and dinner?", "nlu_fallback"),
        ActionExecuted("action_answer_faq"),
    ]
    # Rasa stamps each event as it makes it: a timestamp of its own each.
    for second, event in enumerate(events):
        event.timestamp = 1_700_000_000.0 + second
    return events


def rasas_states(tracker: DialogueStateTracker, **ask: Any) -> list:
    return RASAS_OWN(DOMAIN, tracker, **ask)


class PastStatesTest(unittest.TestCase):
    def assert_as_rasa_at_every_event(self, fresh_tracker_each_time: bool) -> None:
        replays = Replays()
        tracker = DialogueStateTracker(SENDER, DOMAIN.slots)
        for count, event in enumerate(conversation(), start=1):
            tracker.update(event)
            asked = tracker
            if fresh_tracker_each_time:
                # As the tracker store hands each turn a tracker of copied events.
                events = [shallow_copy(known) for known in tracker.events]
                asked = DialogueStateTracker.from_events(SENDER, events, DOMAIN.slots)
            for ask in ASKS:
                with self.subTest(events=count, ask=ask):
                    self.assertEqual(
                        replays.past_states(DOMAIN, asked, **ask), rasas_states(asked, **ask)
                    )

    def test_the_states_are_rasas_at_every_event_of_one_tracker(self) -> None:
        self.assert_as_rasa_at_every_event(fresh_tracker_each_time=False)

    def test_the_states_are_rasas_at_every_event_of_a_tracker_read_anew_each_time(self) -> None:
        self.assert_as_rasa_at_every_event(fresh_tracker_each_time=True)

    def test_each_ask_gets_states_of_its_own_to_edit(self) -> None:
        # Rasa's featurizers delete parts of the states they are given.
        replays = Replays()
        tracker = DialogueStateTracker.from_events(SENDER, conversation()[:20], DOMAIN.slots)
        for ask in ASKS:
            for state in replays.past_states(DOMAIN, tracker, **ask):
                for part in state.values():
                    part.clear()
                state.clear()
            self.assertEqual(
                replays.past_states(DOMAIN, tracker, **ask), rasas_states(tracker, **ask)
            )

    def test_a_history_replaced_with_another_is_replayed_anew(self) -> None:
        replays = Replays()
        events = conversation()
        first = DialogueStateTracker.from_events(SENDER, events[:12], DOMAIN.slots)
        replays.past_states(DOMAIN, first)
        # The same conversation, its history put anew through Rasa's API: the same kinds of
        # events, another message among them, made (stamped) later.
        asked = UserUttered("a person please", {"name": "request_human"})
        other = [*events[:8], asked, *events[9:30]]
        for event in other[8:]:
            event.timestamp += 0.5
        replaced = DialogueStateTracker.from_events(SENDER, other, DOMAIN.slots)
        self.assertEqual(replays.past_states(DOMAIN, replaced), rasas_states(replaced))

    def test_a_turn_undone_and_written_again_at_the_same_time_is_replayed_anew(self) -> None:
        # Events appended through Rasa's API keep the timestamps they are given.
        replays = Replays()
        first = [*user("hi", "greet"), ActionExecuted("action_small_talk")]
        again = [
            UserUtteranceReverted(),
            *user("a person please", "request_human"),
            ActionExecuted("action_handoff"),
        ]
        for event in first + again:
            event.timestamp = 1_700_000_000.0
        tracker = DialogueStateTracker.from_events(SENDER, first, DOMAIN.slots)
        replays.past_states(DOMAIN, tracker)
        for event in again:
            tracker.update(event)
        self.assertEqual(replays.past_states(DOMAIN, tracker), rasas_states(tracker))

    def test_trackers_of_no_conversation_are_left_to_rasa(self) -> None:
        # Rasa's /model/predict: one-off trackers, all named "default", events as posted.
        replays = Replays()
        for intent in ("greet", "request_human"):
            events = [*user("hi", intent), ActionExecuted("action_small_talk")]
            for event in events:
                event.timestamp = 1_700_000_000.0
            tracker = DialogueStateTracker.from_events(DEFAULT_SENDER_ID, events, DOMAIN.slots)
            self.assertEqual(replays.past_states(DOMAIN, tracker), rasas_states(tracker))
        self.assertEqual(replays._replays, {})

    def test_asks_from_two_threads_keep_the_count_of_events_kept(self) -> None:
        # Rasa may train or test in a thread while it serves on its event loop.
        replays = Replays(kept_events=60)
        events = conversation()

        failures: list[Exception] = []

        def ask(senders: range) -> None:
            for sender in itertools.islice(itertools.cycle(map(str, senders)), 3000):
                tracker = DialogueStateTracker.from_events(sender, events[:20], DOMAIN.slots)
                try:
                    replays.past_states(DOMAIN, tracker)
                except Exception as failure:
                    failures.append(failure)

        threads = [threading.Thread(target=ask, args=(range(n, n + 4),)) for n in (0, 4)]
        # Threads take turns every microsecond, not every 5 ms.
        switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(1e-6)
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)
        finally:
            sys.setswitchinterval(switch_interval)
        self.assertEqual(failures, [])
        kept = sum(len(replay.seen) for replay in replays._replays.values())
        self.assertEqual(replays._seen, kept)
        self.assertLessEqual(kept, 60)

    def test_conversations_and_domains_are_kept_apart(self) -> None:
        replays = Replays()
        events = conversation()
        one = DialogueStateTracker.from_events("one", events[:15], DOMAIN.slots)
        other = DialogueStateTracker.from_events("other", events[:9], DOMAIN.slots)
        replays.past_states(DOMAIN, one)
        self.assertEqual(replays.past_states(DOMAIN, other), rasas_states(other))
        # A model loaded anew brings a domain of its own, and the store reads conversations
        # with its slots: here the offer of a person no longer steers the conversation.
        retrained = Domain.from_dict(
            {
                **DOMAIN.as_dict(),
                "slots": {
                    **DOMAIN.as_dict()["slots"],
                    "handoff_offered": {
                        "type": "bool",
                        "influence_conversation": False,
                        "mappings": [{"type": "custom"}],
                    },
                },
            }
        )
        read_anew = DialogueStateTracker.from_events("one", events[:15], retrained.slots)
        self.assertEqual(replays.past_states(retrained, read_anew), RASAS_OWN(retrained, read_anew))

    def test_the_replays_keep_no_more_events_than_allowed(self) -> None:
        replays = Replays(kept_events=40)
        events = conversation()
        for sender in map(str, range(5)):
            tracker = DialogueStateTracker.from_events(sender, events[:25], DOMAIN.slots)
            replays.past_states(DOMAIN, tracker)
        self.assertLessEqual(sum(len(replay.seen) for replay in replays._replays.values()), 40)
        self.assertEqual(replays.past_states(DOMAIN, tracker), rasas_states(tracker))

    def test_served_rasa_asks_the_replays(self) -> None:
        past_states.replay_past_states()
        try:
            tracker = DialogueStateTracker.from_events(SENDER, conversation()[:20], DOMAIN.slots)
            self.assertEqual(tracker.past_states(DOMAIN), rasas_states(tracker))
            self.assertIn((SENDER, repr((False, False, None))), past_states.REPLAYS._replays)
        finally:
            Domain.states_for_tracker_history = RASAS_OWN


if __name__ == "__main__":
    unittest.main()
