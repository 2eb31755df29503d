"""Thresholds calibrated on the knowledge base itself."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from actions.faq.engine import FaqEngine
from actions.faq.index import build_index
from actions.faq.knowledge_base import Faq, load_knowledge_base, write_faqs


class TableEncoder:
    """An encoder that looks vectors up by text: calibration on a geometry we control."""

    name = "table"
    dimension = 24

    def __init__(self, vectors: dict[str, np.ndarray]) -> None:
        self.vectors = vectors

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        return np.stack([self.vectors[text] for text in texts])


def test_separate_topics_are_answered_and_an_unknown_topic_is_not(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    centres = rng.normal(size=(9, 24))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)

    def near(centre: np.ndarray) -> np.ndarray:
        point = centre + rng.normal(scale=0.1, size=24)
        return (point / np.linalg.norm(point)).astype(np.float32)

    vectors = {f"topic {t} text {i}": near(centres[t]) for t in range(9) for i in range(12)}
    encoder = TableEncoder(vectors)
    faqs = [
        Faq(
            id=f"topic{t}",
            question=f"topic {t} text 0",
            paraphrases=tuple(f"topic {t} text {i}" for i in range(1, 8)),
            answer=f"answer {t}",
            tags=(),
            channels=("web", "kiosk"),
        )
        for t in range(8)  # topic 8 stays out of the knowledge base
    ]
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
