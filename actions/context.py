"""Build the context packet a person needs to carry on without asking again."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from rasa_sdk import Tracker
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

SESSION_KEYS = ("channel", "page_url", "kiosk_id", "kiosk_location", "locale")
INTENT_REASONS = {"request_human": "customer_request", "complaint": "frustration"}


@lru_cache(maxsize=1)
def sentiment_analyzer() -> SentimentIntensityAnalyzer:
    """Load VADER's lexicon once per process."""
    return SentimentIntensityAnalyzer()


def sentiment_of(text: str) -> float:
    """Return VADER's compound score of a text, from -1 (angry) to 1 (happy)."""
    return float(sentiment_analyzer().polarity_scores(text)["compound"])


def session_metadata(tracker: Tracker) -> dict[str, Any]:
    """Return the channel, page or kiosk and locale the customer's messages came with."""
    session: dict[str, Any] = {}
    for event in tracker.events:
        if event.get("event") == "user":
            metadata = event.get("metadata") or {}
            session.update({key: metadata[key] for key in SESSION_KEYS if metadata.get(key)})
    session.setdefault("channel", "web")
    return session


def transcript(tracker: Tracker) -> list[dict[str, Any]]:
    """Return every customer and bot turn with intent, confidence, sentiment and FAQ hits."""
    turns: list[dict[str, Any]] = []
    for event in tracker.events:
        kind = event.get("event")
        if kind == "user" and not str(_intent(event).get("name", "")).startswith("EXTERNAL_"):
            text = event.get("text") or ""
            if text.startswith("/"):
                # A button the customer pressed sends its payload ("/request_human").
                text = f"[pressed a button: {_intent(event).get('name')}]"
            turns.append(
                {
                    "role": "customer",
                    "text": text,
                    "timestamp": event.get("timestamp"),
                    "intent": _intent(event).get("name"),
                    "confidence": _intent(event).get("confidence"),
                    "sentiment": sentiment_of(text),
                }
            )
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
    last = questions[-1] if len(questions[-1]) <= 120 else questions[-1][:117] + "..."
    return f'{len(questions)} customer message(s); handed off ({reason}); last: "{last}"'


def handoff_reason(tracker: Tracker) -> str:
    """Return why this handoff happens: a reason set earlier, else the latest intent."""
    intent = tracker.latest_message.get("intent", {}).get("name", "")
    return tracker.get_slot("handoff_reason") or INTENT_REASONS.get(intent, "customer_request")


def faq_tags(tracker: Tracker) -> list[str]:
    """Return the tags of the FAQs the conversation touched, for routing to a team."""
    tags: list[str] = []
    for event in tracker.events:
        if (
            event.get("event") == "slot"
            and event.get("name") == "faq_result"
            and event.get("value")
        ):
            tags += [tag for tag in event["value"].get("tags", []) if tag not in tags]
    return tags


def context_packet(
    tracker: Tracker, reason: str, just_said: list[str] | None = None
) -> dict[str, Any]:
    """Assemble the packet for POST /api/handoffs; `just_said` is what this turn uttered."""
    turns = transcript(tracker) + [{"role": "bot", "text": text} for text in just_said or []]
    customer_sentiments = [turn["sentiment"] for turn in turns if turn["role"] == "customer"]
    recent = customer_sentiments[-3:]
    return {
        "conversation_id": tracker.sender_id,
        **session_metadata(tracker),
        "customer": {
            "name": tracker.get_slot("customer_name"),
            "email": tracker.get_slot("customer_email"),
            "phone": tracker.get_slot("customer_phone"),
        },
        "reason": reason,
        "sentiment": round(sum(recent) / len(recent), 3) if recent else 0.0,
        "summary": summary(turns, reason),
        "tags": faq_tags(tracker),
        "transcript": turns,
    }


def _intent(event: dict[str, Any]) -> dict[str, Any]:
    intent: dict[str, Any] = (event.get("parse_data") or {}).get("intent") or {}
    return intent
