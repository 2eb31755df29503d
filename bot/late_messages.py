"""A message written to a person who has just left goes to their conversation, not the bot.

An agent resolves while the customer is typing to them. The customer's message may reach
Rasa after the handoff server's resolve push, or wait behind it for the conversation's
lock: the bot, in charge again, answered it as a question for the bot (usually "I don't
know"), and the agent never saw it. Each widget message says when the customer wrote it,
as the time of the last message the page had shown (`SHOWN_UNTIL` in its metadata). One
that had not yet shown the resolve goes to the conversation that just ended
(`action_forward_late_message`), where the console shows it came late and lets the agent
take the conversation back; the bot says nothing over it. Rules cannot compare times, so
this is a policy, ahead of the RulePolicy.
"""

from __future__ import annotations

from typing import Any

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from lumen.vocabulary import (
    ENDED_HANDOFF_SLOT,
    FORWARD_LATE_ACTION,
    HANDOFF_RESOLVED,
    SHOWN_UNTIL,
)

# A message counts as written to the person this long after the resolve at most: later, a
# page that still shows the handoff (a phone asleep for an hour) is the bot's to answer.
LATE_WINDOW_S = 60.0
# Above the RulePolicy's 6: the rules would have the bot answer.
PRIORITY = 7


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False
)
class LateMessagePolicy(Policy):  # type: ignore[misc]
    """Forward a message the customer wrote before they saw the handoff end; then listen."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Return the policy's configuration: only its priority."""
        return {"priority": PRIORITY}

    def train(
        self, training_trackers: list[TrackerWithCachedStates], domain: Domain, **kwargs: Any
    ) -> Resource:
        """Nothing to learn: the decision compares two times."""
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        """Predict the late forward after such a message, `action_listen` after the forward."""
        probabilities = self._default_predictions(domain)
        if tracker.latest_action_name == FORWARD_LATE_ACTION:
            probabilities[domain.index_for_action(ACTION_LISTEN_NAME)] = 1.0
        elif tracker.latest_action_name == ACTION_LISTEN_NAME and written_before_resolve(tracker):
            probabilities[domain.index_for_action(FORWARD_LATE_ACTION)] = 1.0
        return self._prediction(probabilities)


def written_before_resolve(tracker: DialogueStateTracker) -> bool:
    """Whether the latest message was written before the page showed the last handoff's end.

    Only while the bot is in charge after a handoff, for a message that says when it was
    written and came within LATE_WINDOW_S of the resolve.
    """
    message = tracker.latest_message
    shown_until = (message.metadata or {}).get(SHOWN_UNTIL) if message else None
    if not _is_time(shown_until) or not tracker.get_slot(ENDED_HANDOFF_SLOT):
        return False
    if tracker.get_slot("handoff_active"):
        return False
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered) and event.intent_name == HANDOFF_RESOLVED:
            recent = message.timestamp - event.timestamp <= LATE_WINDOW_S
            return recent and shown_until < event.timestamp
        if isinstance(event, ActionExecuted) and event.action_name == "action_session_start":
            return False
    return False


def _is_time(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
