"""The words the processes share: handoff reasons, channels, session keys, labels, limits."""

from __future__ import annotations

from enum import Enum

# The longest text a customer, an agent or a handoff packet's turn may carry. The Rasa
# channels refuse longer messages before NLU, the handoff API rejects them, the pages bound
# their inputs to it (they read it from the handoff server's /vocabulary.js).
MAX_TEXT_CHARS = 4000
# The longest sender id (Rasa's conversation id): the handoff server stores no longer, and
# Rasa's REST channel refuses longer.
MAX_SENDER_ID_CHARS = 255
# A REST sender `S` is the conversation `rest-S` (bot/channels.py), so no REST client can name
# a widget or kiosk session (32 hex characters, issued by Rasa).
REST_SENDERS = "rest-"
# The entity that carries a push's id in every intent the handoff server triggers in Rasa;
# Rasa delivers each push id once (`bot.pushes`), however often the outbox sends it.
PUSH_ID = "push_id"
# In a widget message's metadata: the time of the last message the page had shown when the
# customer wrote it (a BotUttered timestamp); tells a message written to a person who has
# just left (`bot.late_messages`). chat-core.js and scripts/widget_socket.py send it.
SHOWN_UNTIL = "shown_until"
# The push that ends a handoff, the slot that then names the conversation that ended (for
# its rating), and the action that sends that conversation a message written before the
# customer saw it end (`bot.late_messages`, actions/relay.py).
HANDOFF_RESOLVED = "EXTERNAL_handoff_resolved"
ENDED_HANDOFF_SLOT = "rating_for"
FORWARD_LATE_ACTION = "action_forward_late_message"


class _Word(str, Enum):
    """A str enum that prints as its value on 3.10 and 3.11 alike (StrEnum is 3.11 only)."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


class HandoffReason(_Word):
    """Why a conversation goes to a person; the handoff server orders its queue by it."""

    CUSTOMER_REQUEST = "customer_request"
    REPEATED_MISSES = "repeated_misses"
    FRUSTRATION = "frustration"
    SENSITIVE_TOPIC = "sensitive_topic"
    BOT_FAILURE = "bot_failure"

    @property
    def label(self) -> str:
        """Return the reason as agents read it in the console."""
        return REASON_LABELS[self]


REASON_LABELS = {
    HandoffReason.CUSTOMER_REQUEST: "Asked for a person",
    HandoffReason.FRUSTRATION: "Frustrated",
    HandoffReason.REPEATED_MISSES: "Bot could not help",
    HandoffReason.SENSITIVE_TOPIC: "Sensitive topic",
    HandoffReason.BOT_FAILURE: "Bot failure",
}


class Channel(_Word):
    """Where the customer talks to the assistant."""

    WEB = "web"
    KIOSK = "kiosk"


CHANNELS = tuple(channel.value for channel in Channel)
# A message that says nothing of where it came from came from the website widget.
DEFAULT_CHANNEL = Channel.WEB

# What a widget or kiosk sends with each message (Rasa's `customData` metadata) and the
# handoff packet passes on to the agent. A kiosk's place is an id of the venue's places
# (data/venue), set for each kiosk in the business's configuration (config/assistant.yml).
SESSION_KEYS = ("channel", "page_url", "kiosk_id", "kiosk_location", "kiosk_place", "locale")

# Who wrote a turn of a conversation's transcript, as the console labels it.
TURN_ROLE_LABELS = {"customer": "Customer", "bot": "Bot", "agent": "Agent", "system": "System"}
# Why a customer's question went unanswered (the FAQ gaps supervisors teach from): nothing
# fitted, or the customer turned the suggestions down.
MISS_OUTCOME_LABELS = {"none": "No FAQ fit", "rejected": "Suggestions rejected"}
# What the FAQ engine decided for a question, as reports name it.
FAQ_DECISION_LABELS = {"answer": "Answered", "suggest": "Suggested FAQs", "none": "Didn't know"}
