"""Build the context packet a person needs to carry on without asking the customer again.

One builder for both senders: the action server (rasa-sdk's tracker gives events as
dicts) and the Rasa process's failsafe when the action server is down (Rasa's events
turned into the same dicts with `Event.as_dict()`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from lumen.vocabulary import DEFAULT_CHANNEL, SESSION_KEYS

Event = Mapping[str, Any]
SUMMARY_QUOTE_CHARS = 120


def session_metadata(events: Iterable[Event]) -> dict[str, Any]:
    """Return the channel, page or kiosk and locale the customer's messages came with."""
    session: dict[str, Any] = {}
    for event in events:
        if event.get("event") == "user":
            metadata = event.get("metadata") or {}
            session.update({key: metadata[key] for key in SESSION_KEYS if metadata.get(key)})
    session.setdefault("channel", DEFAULT_CHANNEL.value)
    return session


def transcript(
    events: Iterable[Event], sentiment_of: Callable[[str], float] | None = None
) -> list[dict[str, Any]]:
    """Return every customer and bot turn: intent, confidence, FAQ hits, sentiment if scored."""
    turns: list[dict[str, Any]] = []
    for event in events:
        kind = event.get("event")
        if kind == "user" and not str(intent_of(event).get("name") or "").startswith("EXTERNAL_"):
            text = event.get("text") or ""
            if text.startswith("/"):
                # A button the customer pressed sends its payload ("/request_human").
                text = f"[pressed a button: {intent_of(event).get('name')}]"
            turn = {
                "role": "customer",
                "text": text,
                "timestamp": event.get("timestamp"),
                "intent": intent_of(event).get("name"),
                "confidence": intent_of(event).get("confidence"),
            }
            if sentiment_of is not None:
                turn["sentiment"] = sentiment_of(text)
            turns.append(turn)
        elif kind == "bot" and event.get("text"):
            turns.append(
                {"role": "bot", "text": event["text"], "timestamp": event.get("timestamp")}
            )
        elif kind == "slot" and event.get("name") == "faq_result" and event.get("value"):
            customer_turns = [turn for turn in turns if turn["role"] == "customer"]
            if customer_turns:
                customer_turns[-1]["faq_hits"] = event["value"].get("hits", [])
    return turns


def summary(turns: list[dict[str, Any]], reason: str) -> str:
    """Summarise the conversation in one line for the agent's queue."""
    questions = [turn["text"] for turn in turns if turn["role"] == "customer"]
    if not questions:
        return f"Handed off ({reason}) before asking anything."
    last = quote(questions[-1])
    return f'{len(questions)} customer message(s); handed off ({reason}); last: "{last}"'


def quote(text: str) -> str:
    """Shorten a text to quote in a summary line."""
    limit = SUMMARY_QUOTE_CHARS
    return text if len(text) <= limit else text[: limit - 3] + "..."


def faq_tags(events: Iterable[Event]) -> list[str]:
    """Return the tags of the FAQs the conversation touched, for routing to a team."""
    tags: list[str] = []
    for event in events:
        if (
            event.get("event") == "slot"
            and event.get("name") == "faq_result"
            and event.get("value")
        ):
            tags += [tag for tag in event["value"].get("tags", []) if tag not in tags]
    return tags


def context_packet(
    sender_id: str,
    events: list[Event],
    slots: Mapping[str, Any],
    reason: str,
    *,
    just_said: Iterable[str] = (),
    sentiment_of: Callable[[str], float] | None = None,
) -> dict[str, Any]:
    """Assemble the packet for POST /api/handoffs; `just_said` is what this turn uttered.

    Without `sentiment_of` the packet carries no sentiment: the Rasa process, which
    sends packets when the action server is down, has no sentiment model.
    """
    turns = transcript(events, sentiment_of) + [{"role": "bot", "text": text} for text in just_said]
    packet: dict[str, Any] = {
        "sender_id": sender_id,
        **session_metadata(events),
        "customer": {
            "name": slots.get("customer_name"),
            "email": slots.get("customer_email"),
            "phone": slots.get("customer_phone"),
        },
        "reason": str(reason),
    }
    if sentiment_of is not None:
        recent = [turn["sentiment"] for turn in turns if turn["role"] == "customer"][-3:]
        packet["sentiment"] = round(sum(recent) / len(recent), 3) if recent else 0.0
    packet["summary"] = summary(turns, str(reason))
    packet["tags"] = faq_tags(events)
    packet["transcript"] = turns
    return packet


def intent_of(event: Event) -> dict[str, Any]:
    """Return the intent NLU gave a user event (name and confidence), or an empty dict."""
    intent: dict[str, Any] = (event.get("parse_data") or {}).get("intent") or {}
    return intent
