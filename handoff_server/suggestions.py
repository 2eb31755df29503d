"""Suggest the knowledge base's answers to an agent, for the customer's latest message.

The bot's FAQ engine scores every customer text it sees, before the handoff and after (the
action server sends the hits with each forwarded message); the handoff server turns the
latest customer turn's hits into answers the agent may put in the reply box, edit and send.
Nothing is sent without the agent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from knowledge_base.faqs import Faq, KnowledgeBaseError

logger = logging.getLogger(__name__)

MAX_SUGGESTIONS = 3


def suggested_answers(
    transcript: Sequence[Mapping[str, Any]],
    faqs: Callable[[], Iterable[Faq]],
    fill: Callable[[str], str] = lambda answer: answer,
) -> list[dict[str, Any]]:
    """Return the answers of the FAQs found for the latest customer turn, best first.

    `fill` fills an answer's placeholders as the bot would have for this customer.
    """
    latest = next((turn for turn in reversed(transcript) if turn["role"] == "customer"), None)
    hits = (latest or {}).get("faq_hits") or []
    if not hits:
        return []
    try:
        by_id = {faq.id: faq for faq in faqs()}
    except KnowledgeBaseError:
        # The conversation still opens; only the suggestions are missing.
        logger.exception("No suggested answers: the knowledge base does not load")
        return []
    found = [(by_id.get(hit["faq_id"]), hit.get("score")) for hit in hits]
    return [
        {
            "faq_id": faq.id,
            "question": faq.question,
            "answer": fill(faq.answer.strip()),
            "score": score,
        }
        for faq, score in found
        if faq is not None and not faq.escalate
    ][:MAX_SUGGESTIONS]
