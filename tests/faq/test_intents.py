"""The FAQ's evidence against NLU: how strongly it claims each intent's own NLU examples."""

from __future__ import annotations

from pathlib import Path

import pytest

from actions.faq.engine import FaqEngine
from actions.faq.index import FaqIndex
from actions.faq.intents import measure_intent_scores, read_nlu_examples
from knowledge_base.faqs import fingerprint, load_knowledge_base

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
def test_only_an_outright_answer_outscoring_every_example_overrules_the_intent(
    kb_copy: tuple[Path, Path], encoder
) -> None:
    faq_dir, index_dir = kb_copy
    probe = FaqEngine(index_dir=index_dir, faq_dir=faq_dir, encoder=encoder)
    answered = probe.decide("how long does a refund take", channel="web")
    suggested = probe.decide("cruise booking payment", channel="web")
    assert (answered.kind, suggested.kind) == ("answer", "suggest")
    bar = min(answered.hits[0].score, suggested.hits[0].score) - 0.01
    index = FaqIndex.load(index_dir, encoder.name, fingerprint(load_knowledge_base(faq_dir)))
    index.with_intent_scores({"greet": bar, "request_human": 2.0}).save(index_dir)

    engine = FaqEngine(index_dir=index_dir, faq_dir=faq_dir, encoder=encoder)
    assert engine.is_question(answered, "greet")
    assert not engine.is_question(suggested, "greet")  # a mere suggestion never overrules
    assert not engine.is_question(answered, "request_human")  # its examples score higher
    assert not engine.is_question(answered, "rate")  # never measured: buttons only


@pytest.mark.slow  # loads the embedding model
def test_an_index_built_without_nlu_data_claims_nothing(engine: FaqEngine) -> None:
    answered = engine.decide("how long does a refund take", channel="web")
    assert answered.kind == "answer"
    assert not engine.is_question(answered, "greet")
