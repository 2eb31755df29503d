"""Thresholds calibrated on the knowledge base itself."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from actions.faq.classifier import Classifier, fit_classifier
from actions.faq.engine import FaqEngine
from actions.faq.index import FaqIndex, build_index
from knowledge_base.faqs import Faq, fingerprint, load_knowledge_base, write_faqs


class TableEncoder:
    """An encoder that looks vectors up by text: calibration on a geometry we control."""

    name = "table"
    dimension = 24

    def __init__(self, vectors: dict[str, np.ndarray]) -> None:
        self.vectors = vectors

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        return self.encode_views(texts)[:, 0]

    def encode_views(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        views = np.stack([self.vectors[text] for text in texts])
        return views if views.ndim == 3 else views[:, None]


def unit(vectors: np.ndarray) -> np.ndarray:
    return (vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)).astype(np.float32)


def faqs_of(topics: int, texts_per_topic: int) -> list[Faq]:
    return [
        Faq(
            id=f"topic{t}",
            question=f"topic {t} text 0",
            paraphrases=tuple(f"topic {t} text {i}" for i in range(1, texts_per_topic)),
            answer=f"answer {t}",
            tags=(),
            channels=("web", "kiosk"),
        )
        for t in range(topics)
    ]


def test_separate_topics_are_answered_and_an_unknown_topic_is_not(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    centres = rng.normal(size=(9, 24))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)

    def near(centre: np.ndarray) -> np.ndarray:
        point = centre + rng.normal(scale=0.1, size=24)
        return (point / np.linalg.norm(point)).astype(np.float32)

    vectors = {f"topic {t} text {i}": near(centres[t]) for t in range(9) for i in range(12)}
    encoder = TableEncoder(vectors)
    faqs = faqs_of(topics=8, texts_per_topic=8)  # topic 8 stays out of the knowledge base
    write_faqs(faqs, tmp_path / "faq" / "kb.yml")
    build_index(faqs, encoder).save(tmp_path / "index")
    engine = FaqEngine(index_dir=tmp_path / "index", faq_dir=tmp_path / "faq", encoder=encoder)

    new_questions = [engine.decide(f"topic {t} text {i}") for t in range(8) for i in range(8, 12)]
    off_topic = [engine.decide(f"topic 8 text {i}") for i in range(12)]

    right = [d for t, d in enumerate(new_questions) if d.hits[0].faq.id == f"topic{t // 4}"]
    assert len(right) == len(new_questions)
    assert sum(d.kind == "answer" for d in new_questions) >= 0.8 * len(new_questions)
    assert all(d.kind == "none" for d in off_topic)


@pytest.mark.slow
def test_kb_without_paraphrases_still_works(tmp_path: Path, fixture_kb: Path, encoder) -> None:
    bare = [replace(faq, paraphrases=()) for faq in load_knowledge_base(fixture_kb)]
    write_faqs(bare, tmp_path / "faq" / "kb.yml")
    build_index(bare, encoder).save(tmp_path / "index")
    engine = FaqEngine(index_dir=tmp_path / "index", faq_dir=tmp_path / "faq", encoder=encoder)

    exact = engine.decide("When will I get my refund?", channel="web")
    unrelated = engine.decide("what is the capital of Peru", channel="web")

    assert exact.kind == "answer" and exact.hits[0].faq.id == "refund_timeline"
    assert unrelated.kind == "none"


def test_classifier_is_calibrated_in_where_neighbours_confuse_faqs(tmp_path: Path) -> None:
    # Two views: in the first (the one searched) pairs of topics share a centre, so neighbours
    # cannot tell them apart; in the second every topic has its own centre.
    rng = np.random.default_rng(5)
    shared = unit(rng.normal(size=(4, 24)))
    own = unit(rng.normal(size=(8, 24)))
    vectors = {
        f"topic {t} text {i}": unit(
            np.stack([shared[t // 2], own[t]]) + rng.normal(scale=0.15, size=(2, 24))
        )
        for t in range(8)
        for i in range(30)
    }
    encoder = TableEncoder(vectors)
    faqs = faqs_of(topics=8, texts_per_topic=24)
    write_faqs(faqs, tmp_path / "faq" / "kb.yml")
    build_index(faqs, encoder).save(tmp_path / "index")
    engine = FaqEngine(index_dir=tmp_path / "index", faq_dir=tmp_path / "faq", encoder=encoder)

    index = FaqIndex.load(tmp_path / "index", "table", fingerprint(faqs))
    new_questions = [
        (t, engine.decide(f"topic {t} text {i}")) for t in range(8) for i in range(24, 30)
    ]

    assert index.classifier is not None and index.thresholds.classifier_weight > 0
    assert sum(d.hits[0].faq.id == f"topic{t}" for t, d in new_questions) >= 0.9 * 48


def test_classifier_learns_labels_and_round_trips_without_pickle(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    centres = unit(rng.normal(size=(5, 16)))
    labels = np.repeat(np.arange(5), 20)
    features = unit(centres[labels] + rng.normal(scale=0.2, size=(100, 16)))

    classifier = fit_classifier(features, labels, n_faqs=5)
    classifier.save(tmp_path / "classifier.npz")
    reloaded = Classifier.load(tmp_path / "classifier.npz")

    log_probabilities = reloaded.log_probabilities(features)
    assert np.mean(log_probabilities.argmax(axis=1) == labels) > 0.95
    np.testing.assert_allclose(np.exp(log_probabilities).sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(reloaded.weights, classifier.weights)
