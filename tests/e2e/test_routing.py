"""Every question the knowledge base knows reaches its FAQ in a real Rasa turn (REST channel).

The knowledge base is free labelled data for the dialogue: each question, paraphrase and a
seeded typo of it is the first message of a fresh conversation, and must get its FAQ's answer
or a suggestion with it first, whatever the intent classifier makes of it.
"""

from __future__ import annotations

import pytest

from bench.routing import ask_all
from scripts.kb_questions import kb_questions, reached_its_faq, response_text
from scripts.stack import REPO_ROOT, Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TARGET = 0.99


def test_every_kb_question_reaches_its_faq_through_rasa(stack: Stack):
    did_you_mean = response_text(REPO_ROOT / "bot" / "domain.yml", "utter_did_you_mean")
    questions = list(kb_questions(REPO_ROOT / "data" / "faq", channel="web"))
    replies = ask_all(stack, questions)
    missed = [
        f"{question.text!r} ({question.faq.id}) heard {(answer[:1] or [{}])[0].get('text')!r}"
        for question, answer in zip(questions, replies, strict=True)
        if not reached_its_faq(question, answer, did_you_mean)
    ]
    assert len(questions) > 1000  # questions, paraphrases and their typos
    assert 1 - len(missed) / len(questions) >= TARGET, "\n".join(missed)
