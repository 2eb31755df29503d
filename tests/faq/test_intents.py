"""The FAQ's evidence against DIET: how strongly it claims each intent's own NLU examples."""

from __future__ import annotations

from pathlib import Path

import pytest

from actions.faq.engine import FaqEngine
from actions.faq.intents import (
    load_intent_scores,
    measure_intent_scores,
    read_nlu_examples,
    save_intent_scores,
)

NLU = """\
version: "3.1"
nlu:
  - intent: give_name
    examples: |
      - my name is [Tom](name)
      - [Priya Natarajan]{"entity": "name"}
  - intent: ask_question
    examples: |
      - how long does a refund take
  - regex: email
    examples: |
      - [^@]+@[^@]+
"""


def test_nlu_examples_are_read_as_customers_typed_them(tmp_path: Path) -> None:
    (tmp_path / "contact.yml").write_text(NLU)
    assert read_nlu_examples(tmp_path) == {
        "give_name": ["my name is Tom", "Priya Natarajan"],
        "ask_question": ["how long does a refund take"],
    }


def test_each_intent_keeps_its_examples_best_faq_score_and_questions_are_left_out() -> None:
    examples = {"greet": ["hi", "hello there"], "ask_question": ["refund?"]}
    scores = {"hi": 0.2, "hello there": 0.35, "refund?": 0.99}
    assert measure_intent_scores(examples, scores.__getitem__) == {"greet": 0.35}


@pytest.mark.slow  # loads the embedding model
def test_a_question_outscoring_every_example_of_the_intent_is_the_faqs(
    kb_copy: tuple[Path, Path], encoder
) -> None:
    faq_dir, index_dir = kb_copy
    probe = FaqEngine(index_dir=index_dir, faq_dir=faq_dir, encoder=encoder)
    greeting_score = probe.decide("hello, good morning").hits[0].score
    save_intent_scores(index_dir, {"greet": greeting_score})
    assert load_intent_scores(index_dir) == {"greet": pytest.approx(greeting_score, abs=1e-6)}

    engine = FaqEngine(index_dir=index_dir, faq_dir=faq_dir, encoder=encoder)
    question = engine.decide("how long does a refund take", channel="web")
    assert engine.is_question(question, "greet")
    assert not engine.is_question(engine.decide("hello, good morning"), "greet")
    # An intent never measured (buttons only) is never overruled.
    assert not engine.is_question(question, "rate")


def test_without_nlu_data_at_build_the_faq_claims_nothing(tmp_path: Path) -> None:
    assert load_intent_scores(tmp_path) == {}
