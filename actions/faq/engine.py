"""The FAQ engine: decide answer, suggest or none for a customer's question."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, replace
from pathlib import Path

import faiss
import numpy as np

from actions.faq.calibration import DecisionKind, FaqScorer, decide_kind, final_score
from actions.faq.encoder import Encoder, OnnxEncoder
from actions.faq.index import FaqIndex, FaqIndexError, IndexedText
from actions.faq.knowledge_base import (
    CHANNELS,
    Faq,
    fingerprint,
    load_knowledge_base,
    normalize_text,
    save_added_paraphrase,
)

__all__ = ["Decision", "FaqEngine", "FaqIndexError", "Hit", "get_engine"]

REPO_ROOT = Path(__file__).resolve().parents[2]
MAX_HITS = 3


@dataclass(frozen=True)
class Hit:
    """An FAQ and its score for the question: pooled similarity plus weighted log-probability."""

    faq: Faq
    score: float


@dataclass(frozen=True)
class Decision:
    """What to do with a question, with the FAQs it was based on, best first."""

    kind: DecisionKind
    hits: list[Hit]


@dataclass(frozen=True)
class _Snapshot:
    """Everything one search reads; replaced whole, never changed, so searches need no lock."""

    faqs: list[Faq]
    index: FaqIndex
    scorer: FaqScorer
    channel_rows: dict[str, np.ndarray]
    text_owners: dict[str, str]

    @classmethod
    def of(cls, faqs: list[Faq], index: FaqIndex) -> _Snapshot:
        numbers = {faq.id: number for number, faq in enumerate(faqs)}
        row_faqs = np.array([numbers[row.faq_id] for row in index.rows])
        return cls(
            faqs=faqs,
            index=index,
            scorer=FaqScorer(row_faqs, len(faqs)),
            channel_rows={
                channel: np.array([channel in faqs[number].channels for number in row_faqs])
                for channel in CHANNELS
            },
            text_owners={normalize_text(text): faq.id for faq in faqs for text in faq.texts},
        )


class FaqEngine:
    """Search the FAQ index and decide; the model and index load on first use.

    The encoder defaults to the ONNX model exported into the index directory by the build.
    """

    def __init__(self, index_dir: Path, faq_dir: Path, encoder: Encoder | None = None) -> None:
        self.index_dir = Path(index_dir)
        self.faq_dir = Path(faq_dir)
        self._encoder = encoder or OnnxEncoder(self.index_dir)
        self._snapshot: _Snapshot | None = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Load the knowledge base, the index and the model now rather than on first use."""
        self._current()

    def decide(self, text: str, channel: str | None = None) -> Decision:
        """Decide whether to answer, suggest FAQs, or say nothing fits; channel filters FAQs."""
        if channel is not None and channel not in CHANNELS:
            raise ValueError(f"unknown channel {channel!r} (known: {', '.join(CHANNELS)})")
        snapshot = self._current()
        if not text.strip():
            return Decision("none", [])
        views = self._encoder.encode_views([text])
        similarities = snapshot.index.similarities(views[:, 0])
        if channel is not None:
            similarities[:, ~snapshot.channel_rows[channel]] = -np.inf
        thresholds = snapshot.index.thresholds
        classifier = snapshot.index.classifier
        knn_scores = snapshot.scorer.scores(similarities, thresholds.temperature)[0]
        log_probabilities = (
            classifier.log_probabilities(views.reshape(1, -1))[0] if classifier else None
        )
        scores = final_score(knn_scores, log_probabilities, thresholds.classifier_weight)
        plausibilities = final_score(knn_scores, log_probabilities, thresholds.none_weight)
        best = [int(n) for n in np.argsort(-scores)[: MAX_HITS + 1] if np.isfinite(scores[n])]
        if not best:
            return Decision("none", [])
        runner_up = scores[best[1]] if len(best) > 1 else -np.inf
        kind = decide_kind(
            float(scores[best[0]]), float(runner_up), float(plausibilities[best[0]]), thresholds
        )
        if kind == "suggest":
            best = [n for n in best if plausibilities[n] >= thresholds.none_score]
        hits = [Hit(snapshot.faqs[n], float(scores[n])) for n in best[:MAX_HITS]]
        return Decision(kind, hits)

    def add_paraphrase(self, faq_id: str, text: str) -> bool:
        """Teach an FAQ a new paraphrase, live and persisted; False if it already had it."""
        text = text.strip()
        with self._lock:
            snapshot = self._load_locked()
            faq = next((faq for faq in snapshot.faqs if faq.id == faq_id), None)
            if faq is None:
                raise KeyError(f"no FAQ with id {faq_id!r}")
            if not normalize_text(text):
                raise ValueError("a paraphrase needs some text")
            owner = snapshot.text_owners.get(normalize_text(text))
            if owner == faq_id:
                return False
            if owner is not None:
                raise ValueError(f"{text!r} already belongs to FAQ {owner!r}")
            embedding = self._encoder.encode([text])[0]
            faqs = [
                replace(item, paraphrases=(*item.paraphrases, text)) if item is faq else item
                for item in snapshot.faqs
            ]
            index = snapshot.index.with_added(
                embedding, IndexedText(faq_id, text), fingerprint(faqs)
            )
            save_added_paraphrase(self.faq_dir, faq_id, text)
            index.save(self.index_dir)
            self._snapshot = _Snapshot.of(faqs, index)
            return True

    def _current(self) -> _Snapshot:
        snapshot = self._snapshot
        if snapshot is not None:
            return snapshot
        with self._lock:
            return self._load_locked()

    def _load_locked(self) -> _Snapshot:
        if self._snapshot is None:
            faqs = load_knowledge_base(self.faq_dir)
            index = FaqIndex.load(self.index_dir, self._encoder.name, fingerprint(faqs))
            if index.dimension != self._encoder.dimension:
                raise FaqIndexError(
                    f"the FAQ index in {self.index_dir} holds {index.dimension}-dimensional "
                    f"vectors, the model makes {self._encoder.dimension}: rebuild it"
                )
            # On 2 cores one thread answers a single query faster than two (ARCHITECTURE.md).
            faiss.omp_set_num_threads(1)
            self._snapshot = _Snapshot.of(faqs, index)
        return self._snapshot


_shared_engine: FaqEngine | None = None
_shared_engine_lock = threading.Lock()


def get_engine() -> FaqEngine:
    """Return the process's one engine, on FAQ_INDEX_DIR and FAQ_DATA_DIR (repo-relative)."""
    global _shared_engine
    with _shared_engine_lock:
        if _shared_engine is None:
            _shared_engine = FaqEngine(
                index_dir=REPO_ROOT / os.environ.get("FAQ_INDEX_DIR", "models/faq"),
                faq_dir=REPO_ROOT / os.environ.get("FAQ_DATA_DIR", "data/faq"),
            )
        return _shared_engine
