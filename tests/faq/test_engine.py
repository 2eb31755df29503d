"""Decisions, channels, live paraphrases and sharing one model per process."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from actions.faq import encoder as encoder_module
from actions.faq import engine as engine_module
from actions.faq.calibration import Thresholds, decide_kind
from actions.faq.engine import FaqEngine
from actions.faq.knowledge_base import load_knowledge_base

pytestmark = pytest.mark.slow  # loads the embedding model


def test_exact_paraphrase_is_answered(engine: FaqEngine) -> None:
    decision = engine.decide("how long does a refund take", channel="web")

    assert decision.kind == "answer"
    assert decision.hits[0].faq.id == "refund_timeline"
    assert decision.hits[0].faq.answer.startswith("Refunds reach your account")


def test_new_wording_of_a_known_question_is_answered(engine: FaqEngine) -> None:
    decision = engine.decide("what's the wifi password on the boat?", channel="web")

    assert decision.kind == "answer"
    assert decision.hits[0].faq.id == "wifi"


def test_unrelated_question_gets_none(engine: FaqEngine) -> None:
    decision = engine.decide("what is the capital of Peru", channel="web")

    assert decision.kind == "none"
    assert len(decision.hits) <= 3


def test_vague_question_gets_distinct_suggestions(engine: FaqEngine) -> None:
    decision = engine.decide("how do I pay", channel="web")

    assert decision.kind == "suggest"
    ids = [hit.faq.id for hit in decision.hits]
    assert ids[0] == "payment_methods"
    assert 1 <= len(ids) <= 3 and len(set(ids)) == len(ids)


def test_empty_question_gets_none(engine: FaqEngine) -> None:
    assert engine.decide("   ").kind == "none"


def test_two_equally_good_faqs_are_suggested_not_answered() -> None:
    thresholds = Thresholds(
        temperature=0.02,
        classifier_weight=0.0,
        answer_score=0.7,
        answer_margin=0.1,
        none_weight=0.0,
        none_score=0.4,
    )

    assert decide_kind(0.9, 0.5, 0.9, thresholds) == "answer"
    assert decide_kind(0.9, 0.85, 0.9, thresholds) == "suggest"
    assert decide_kind(0.6, 0.1, 0.6, thresholds) == "suggest"
    assert decide_kind(0.3, 0.1, 0.3, thresholds) == "none"
    assert decide_kind(0.9, 0.1, 0.3, thresholds) == "none"


def test_kiosk_only_faq_is_never_found_on_web(engine: FaqEngine) -> None:
    question = "I lost something on the ship, where is lost property?"

    on_web = engine.decide(question, channel="web")
    on_kiosk = engine.decide(question, channel="kiosk")

    assert "lost_property" not in [hit.faq.id for hit in on_web.hits]
    assert on_kiosk.kind == "answer" and on_kiosk.hits[0].faq.id == "lost_property"


def test_web_only_faq_is_never_found_on_kiosk(engine: FaqEngine) -> None:
    decision = engine.decide("do you accept PayPal", channel="kiosk")

    assert "payment_methods" not in [hit.faq.id for hit in decision.hits]


def test_unknown_channel_is_refused(engine: FaqEngine) -> None:
    with pytest.raises(ValueError, match="unknown channel 'phone'"):
        engine.decide("wifi?", channel="phone")


def test_added_paraphrase_is_answered_at_once_and_after_restart(
    kb_copy: tuple[Path, Path], encoder
) -> None:
    faq_dir, index_dir = kb_copy
    engine = FaqEngine(index_dir=index_dir, faq_dir=faq_dir, encoder=encoder)
    question = "is the dosh back yet"
    before = engine.decide(question, channel="web")
    assert before.kind != "answer" or before.hits[0].faq.id != "refund_timeline"

    assert engine.add_paraphrase("refund_timeline", question) is True

    after = engine.decide(question, channel="web")
    assert after.kind == "answer" and after.hits[0].faq.id == "refund_timeline"
    restarted = FaqEngine(index_dir=index_dir, faq_dir=faq_dir, encoder=encoder)
    again = restarted.decide(question, channel="web")
    assert again.kind == "answer" and again.hits[0].faq.id == "refund_timeline"
    refund = {faq.id: faq for faq in load_knowledge_base(faq_dir)}["refund_timeline"]
    assert question in refund.paraphrases


def test_adding_a_known_paraphrase_changes_nothing(kb_copy: tuple[Path, Path], encoder) -> None:
    faq_dir, index_dir = kb_copy
    engine = FaqEngine(index_dir=index_dir, faq_dir=faq_dir, encoder=encoder)

    assert engine.add_paraphrase("wifi", "Does the boat have WiFi?") is False
    assert not (faq_dir / "added_paraphrases.yml").exists()


def test_paraphrase_of_another_faq_is_refused(kb_copy: tuple[Path, Path], encoder) -> None:
    faq_dir, index_dir = kb_copy
    engine = FaqEngine(index_dir=index_dir, faq_dir=faq_dir, encoder=encoder)

    with pytest.raises(ValueError, match="already belongs to FAQ 'wifi'"):
        engine.add_paraphrase("gym_hours", "does the boat have wifi")
    with pytest.raises(KeyError, match="no FAQ with id 'nope'"):
        engine.add_paraphrase("nope", "anything")


def test_model_loads_once_for_many_engines_and_threads(
    monkeypatch: pytest.MonkeyPatch, built_index_dir: Path, fixture_kb: Path
) -> None:
    import onnxruntime

    loads = []
    open_session = onnxruntime.InferenceSession

    def counting_session(*args, **kwargs):
        loads.append(args)
        return open_session(*args, **kwargs)

    monkeypatch.setattr(encoder_module, "_sessions", {})
    monkeypatch.setattr("onnxruntime.InferenceSession", counting_session)
    engines = [
        FaqEngine(index_dir=built_index_dir, faq_dir=fixture_kb),
        FaqEngine(index_dir=built_index_dir, faq_dir=fixture_kb),
    ]
    decisions = []
    threads = [
        threading.Thread(target=lambda e=e: decisions.append(e.decide("gym opening hours")))
        for e in engines * 4
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(loads) == 1
    assert [d.hits[0].faq.id for d in decisions] == ["gym_hours"] * 8


def test_shared_engine_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(engine_module, "_shared_engine", None)
    monkeypatch.setenv("FAQ_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.delenv("FAQ_DATA_DIR", raising=False)

    shared = engine_module.get_engine()

    assert engine_module.get_engine() is shared
    assert shared.index_dir == tmp_path / "index"
    assert shared.faq_dir == engine_module.REPO_ROOT / "data" / "faq"
