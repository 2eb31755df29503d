"""The faiss index: exact search, persistence, and refusing an index that does not fit."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from actions.faq.calibration import FaqScorer, Thresholds
from actions.faq.engine import FaqEngine
from actions.faq.index import METADATA_FILE, FaqIndex, FaqIndexError, IndexedText
from knowledge_base.faqs import fingerprint, load_knowledge_base

QUERIES = [
    "can I get my money back",
    "internet on the boat",
    "what time is supper",
    "I want to cancel",
    "what is the capital of Peru",
]

pytestmark = pytest.mark.slow  # loads the embedding model


THRESHOLDS = Thresholds(
    temperature=0.02,
    classifier_weight=0.1,
    answer_score=0.9,
    answer_margin=0.1,
    none_weight=0.1,
    none_margin_weight=0.0,
    none_score=0.5,
)


def normalized(vectors: np.ndarray) -> np.ndarray:
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def test_faiss_hits_match_numpy_brute_force(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    vectors = normalized(rng.normal(size=(300, 32)))
    rows = [IndexedText(f"faq{i % 10}", f"text {i}") for i in range(300)]
    index = FaqIndex.from_embeddings(vectors, rows, "test-model", "sha", THRESHOLDS)
    index.save(tmp_path)
    reloaded = FaqIndex.load(tmp_path, "test-model", "sha")
    queries = normalized(vectors[:5] + rng.normal(scale=0.3, size=(5, 32)))

    brute_force = queries @ vectors.T
    for searched in (index, reloaded):
        similarities = searched.similarities(queries)
        np.testing.assert_allclose(similarities, brute_force, atol=1e-5)
        np.testing.assert_array_equal(
            np.argsort(-similarities, axis=1)[:, :10], np.argsort(-brute_force, axis=1)[:, :10]
        )


def test_added_vectors_are_searched_and_the_original_is_untouched() -> None:
    rng = np.random.default_rng(3)
    vectors = normalized(rng.normal(size=(50, 16)))
    rows = [IndexedText("faq", f"text {i}") for i in range(50)]
    index = FaqIndex.from_embeddings(vectors, rows, "m", "sha", THRESHOLDS)
    new_vectors = normalized(rng.normal(size=(2, 16)))

    grown = index.with_added(
        new_vectors, [IndexedText("faq", "new"), IndexedText("faq", "newer")], "sha2"
    )

    assert len(grown.rows) == 52 and len(index.rows) == 50
    assert grown.rows[50:] == [IndexedText("faq", "new"), IndexedText("faq", "newer")]
    assert index.similarities(new_vectors).shape == (2, 50)
    np.testing.assert_allclose(np.diag(grown.similarities(new_vectors)[:, 50:]), 1.0, atol=1e-5)


def test_engine_ranks_faqs_like_numpy_brute_force(engine: FaqEngine, encoder) -> None:
    faqs = load_knowledge_base(engine.faq_dir)
    texts = [(faq, text) for faq in faqs for text in faq.texts]
    embeddings = encoder.encode([text for _, text in texts])
    index = FaqIndex.load(engine.index_dir, encoder.name, fingerprint(faqs))
    t, weight = index.thresholds.temperature, index.thresholds.classifier_weight
    for query in QUERIES:
        views = encoder.encode_views([query])
        similarities = embeddings @ views[0, 0]
        log_probabilities = (
            index.classifier.log_probabilities(views.reshape(1, -1))[0]
            if index.classifier
            else np.zeros(len(faqs))
        )
        expected = {}
        for faq in faqs:
            own = np.array(
                [s for (owner, _), s in zip(texts, similarities, strict=True) if owner is faq]
            )
            peak = own.max()
            pooled = peak + t * np.log(np.exp((own - peak) / t).sum())
            expected[faq.id] = pooled + weight * log_probabilities[faqs.index(faq)]
        expected_top = sorted(expected, key=expected.__getitem__, reverse=True)[:3]

        decision = engine.decide(query)

        assert [hit.faq.id for hit in decision.hits] == expected_top[: len(decision.hits)]
        for hit in decision.hits:
            assert hit.score == pytest.approx(expected[hit.faq.id], abs=1e-4)


def test_scorer_pools_paraphrases_and_skips_left_out_rows() -> None:
    scorer = FaqScorer(row_faqs=[0, 1, 0, 2], n_faqs=3)
    similarities = np.array([[0.9, 0.8, 0.9, -np.inf]])

    scores = scorer.scores(similarities, temperature=0.01)[0]

    assert scores[0] == pytest.approx(0.9 + 0.01 * np.log(2))
    assert scores[1] == pytest.approx(0.8)
    assert scores[2] == -np.inf


def test_index_round_trips_through_disk(built_index_dir: Path, fixture_kb: Path, encoder) -> None:
    faqs = load_knowledge_base(fixture_kb)

    index = FaqIndex.load(built_index_dir, encoder.name, fingerprint(faqs))

    metadata = json.loads((built_index_dir / METADATA_FILE).read_text())
    assert metadata["count"] == len(index.rows) == sum(len(faq.texts) for faq in faqs)
    assert metadata["dimension"] == 384
    assert metadata["model_name"] == "all-MiniLM-L6-v2 onnx int8"
    assert metadata["rows"][0] == {"faq_id": faqs[0].id, "text": faqs[0].question}
    assert set(metadata["thresholds"]) == {
        "temperature",
        "classifier_weight",
        "answer_score",
        "answer_margin",
        "none_weight",
        "none_margin_weight",
        "none_score",
    }
    assert not list(built_index_dir.glob("*.pkl"))


def test_missing_index_is_refused_with_the_command_to_build_it(
    tmp_path: Path, fixture_kb: Path, encoder
) -> None:
    engine = FaqEngine(index_dir=tmp_path / "nowhere", faq_dir=fixture_kb, encoder=encoder)

    with pytest.raises(FaqIndexError, match=r"no FAQ index in .*python -m actions\.faq build"):
        engine.decide("wifi?")


def test_index_of_another_model_is_refused(kb_copy: tuple[Path, Path], encoder) -> None:
    faq_dir, index_dir = kb_copy
    metadata_path = index_dir / METADATA_FILE
    metadata = json.loads(metadata_path.read_text())
    metadata["model_name"] = "paraphrase-MiniLM-L3-v2"
    metadata_path.write_text(json.dumps(metadata))
    engine = FaqEngine(index_dir=index_dir, faq_dir=faq_dir, encoder=encoder)

    with pytest.raises(FaqIndexError, match="built with model 'paraphrase-MiniLM-L3-v2'"):
        engine.decide("wifi?")


def test_index_of_other_data_is_refused(kb_copy: tuple[Path, Path], encoder) -> None:
    faq_dir, index_dir = kb_copy
    path = faq_dir / "onboard.yml"
    path.write_text(path.read_text().replace("does the boat have wifi", "any wifi at sea"))
    engine = FaqEngine(index_dir=index_dir, faq_dir=faq_dir, encoder=encoder)

    with pytest.raises(FaqIndexError, match="built from other FAQ data"):
        engine.decide("wifi?")


def test_answer_edits_need_no_rebuild(kb_copy: tuple[Path, Path], encoder) -> None:
    faq_dir, index_dir = kb_copy
    path = faq_dir / "onboard.yml"
    path.write_text(path.read_text().replace('"Deck-Guest"', '"Deck-Guest-2"'))
    engine = FaqEngine(index_dir=index_dir, faq_dir=faq_dir, encoder=encoder)

    decision = engine.decide("Is there wifi on board the ship?")

    assert decision.kind == "answer"
    assert "Deck-Guest-2" in decision.hits[0].faq.answer
