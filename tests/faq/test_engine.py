"""Decisions, channels, live paraphrases and sharing one model per process."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from actions.faq import encoder as encoder_module
from actions.faq import engine as engine_module
from actions.faq.calibration import Thresholds, decide_kind
from actions.faq.engine import FaqEngine, Learned
from actions.settings import REPO_ROOT
from handoff_server.question_groups import SIMILAR_COSINE
from knowledge_base.faqs import load_knowledge_base

pytestmark = pytest.mark.slow  # loads the embedding model


def snapshot_of(*directories: Path) -> dict[Path, bytes]:
    """Return every file under the directories with its content."""
    return {
        path: path.read_bytes()
        for directory in directories
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


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
    decision = engine.decide("cruise booking payment", channel="web")

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
        none_margin_weight=0.0,
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


def test_taught_paraphrases_are_answered_at_once_without_touching_the_disk(
    kb_copy: tuple[Path, Path], encoder
) -> None:
    faq_dir, index_dir = kb_copy
    files_before = snapshot_of(faq_dir, index_dir)
    engine = FaqEngine(index_dir=index_dir, faq_dir=faq_dir, encoder=encoder)
    refund, dinner = "is the dosh back yet", "grub o'clock tonight?"
    for question, faq_id in ((refund, "refund_timeline"), (dinner, "dinner_times")):
        before = engine.decide(question, channel="web")
        assert before.kind != "answer" or before.hits[0].faq.id != faq_id

    learned = engine.add_paraphrases([("refund_timeline", refund), ("dinner_times", dinner)])

    assert learned == Learned(added=2, refused=[])
    for question, faq_id in ((refund, "refund_timeline"), (dinner, "dinner_times")):
        after = engine.decide(question, channel="web")
        assert after.kind == "answer" and after.hits[0].faq.id == faq_id
    assert snapshot_of(faq_dir, index_dir) == files_before
    # Memory only: a new process starts from the index as built (and the sync teaches it again).
    restarted = FaqEngine(index_dir=index_dir, faq_dir=faq_dir, encoder=encoder)
    again = restarted.decide(refund, channel="web")
    assert again.kind != "answer" or again.hits[0].faq.id != "refund_timeline"


def test_a_taught_paraphrase_keeps_its_faq_s_channels(kb_copy: tuple[Path, Path], encoder) -> None:
    faq_dir, index_dir = kb_copy
    engine = FaqEngine(index_dir=index_dir, faq_dir=faq_dir, encoder=encoder)
    question = "can I settle the bill with crypto"

    engine.add_paraphrases([("payment_methods", question)])

    on_web = engine.decide(question, channel="web")
    on_kiosk = engine.decide(question, channel="kiosk")
    assert on_web.kind == "answer" and on_web.hits[0].faq.id == "payment_methods"
    assert "payment_methods" not in [hit.faq.id for hit in on_kiosk.hits]


def test_known_texts_are_skipped_and_conflicts_refused(kb_copy: tuple[Path, Path], encoder) -> None:
    faq_dir, index_dir = kb_copy
    engine = FaqEngine(index_dir=index_dir, faq_dir=faq_dir, encoder=encoder)

    learned = engine.add_paraphrases(
        [
            ("wifi", "Does the boat have WiFi?"),
            ("gym_hours", "does the boat have wifi"),
            ("nope", "anything"),
            ("wifi", "   "),
            ("wifi", "any hotspot here"),
            ("dinner_times", "Any hotspot here?"),
        ]
    )

    assert learned.added == 1
    assert learned.refused == [
        "'does the boat have wifi' already belongs to FAQ 'wifi', not 'gym_hours'",
        "'anything': no FAQ with id 'nope'",
        "'   ': a paraphrase needs some text",
        "'Any hotspot here?' already belongs to FAQ 'wifi', not 'dinner_times'",
    ]
    assert engine.decide("any hotspot here", channel="web").hits[0].faq.id == "wifi"


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
    assert shared.faq_dir == REPO_ROOT / "data" / "faq"


def test_every_text_of_the_knowledge_base_is_answered_outright_by_its_faq() -> None:
    # The real KB and the index `make setup` built: a customer who types an FAQ's own question
    # (or one of its paraphrases), in any case, gets its answer, not "Did you mean...?".
    engine = FaqEngine(REPO_ROOT / "models" / "faq", REPO_ROOT / "data" / "faq")
    faqs = load_knowledge_base(REPO_ROOT / "data" / "faq")
    asked = [(faq, text) for faq in faqs for text in faq.texts]

    wrong = [
        (faq.id, text, decision.kind, decision.hits[0].faq.id if decision.hits else None)
        for faq, text in asked
        if (decision := engine.decide(text.upper(), channel=faq.channels[0])).kind != "answer"
        or decision.hits[0].faq.id != faq.id
    ]

    assert len(asked) > 500
    assert wrong == []


def test_alike_questions_have_alike_embeddings_for_grouping(engine: FaqEngine) -> None:
    sauna, sauna_again, drone = (
        engine.embed(text)
        for text in ("is there a sauna on board", "do you have a sauna", "can i bring my drone")
    )

    def cosine(a: list[int], b: list[int]) -> float:
        return sum(x * y for x, y in zip(a, b, strict=True)) / (
            sum(x * x for x in a) ** 0.5 * sum(y * y for y in b) ** 0.5
        )

    assert all(-127 <= value <= 127 for value in sauna)
    # The handoff server groups questions at this similarity.
    assert cosine(sauna, sauna_again) > SIMILAR_COSINE > cosine(sauna, drone)
