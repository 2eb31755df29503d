"""The FAQ engine: decide answer, suggest or none for a customer's question."""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import faiss
import numpy as np

from actions.faq.calibration import DecisionKind, FaqScorer, decide_kind, final_score
from actions.faq.encoder import Encoder, OnnxEncoder
from actions.faq.index import FaqIndex, FaqIndexError, IndexedText
from actions.faq.spelling import Speller
from actions.settings import ActionSettings
from knowledge_base.faqs import (
    CHANNELS,
    Faq,
    fingerprint,
    load_knowledge_base,
    normalize_text,
    text_owners,
)

__all__ = ["Decision", "FaqEngine", "FaqIndexError", "Hit", "Learned", "get_engine"]

logger = logging.getLogger(__name__)

MAX_HITS = 3


# Embeddings sent to the handoff server are int8-quantized: a normalized vector times this.
EMBEDDING_SCALE = 127


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
class Learned:
    """What teaching paraphrases did: how many joined the index, and why others did not."""

    added: int
    refused: list[str]


@dataclass(frozen=True)
class _Snapshot:
    """Everything one search reads; replaced whole, never changed, so searches need no lock."""

    faqs: list[Faq]
    index: FaqIndex
    scorer: FaqScorer
    channel_rows: dict[str, np.ndarray]
    text_owners: dict[str, str]
    speller: Speller

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
            text_owners=text_owners(faqs),
            speller=Speller(text for faq in faqs for text in faq.texts),
        )


class FaqEngine:
    """Search the FAQ index and decide; the model and index load on first use.

    The encoder defaults to the ONNX model exported into the index directory by the build.
    Paraphrases taught at run time live in memory only: the handoff server keeps them and
    actions.faq_sync teaches them again after a restart.
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
        # The text as typed and with its slips mended: whichever an FAQ matches better wins,
        # so a mended word that was a name after all ("Melk", a port) costs nothing.
        readings = list(dict.fromkeys([text, snapshot.speller.correct(text)]))
        views = self._encoder.encode_views(readings)
        similarities = snapshot.index.similarities(views[:, 0])
        if channel is not None:
            similarities[:, ~snapshot.channel_rows[channel]] = -np.inf
        thresholds = snapshot.index.thresholds
        classifier = snapshot.index.classifier
        knn_scores = snapshot.scorer.scores(similarities, thresholds.temperature)
        log_probabilities = (
            classifier.log_probabilities(views.reshape(len(readings), -1)) if classifier else None
        )
        all_scores = final_score(knn_scores, log_probabilities, thresholds.classifier_weight)
        reading = int(np.argmax(all_scores.max(axis=1)))
        scores = all_scores[reading]
        plausibilities = final_score(knn_scores, log_probabilities, thresholds.none_weight)[reading]
        best = [int(n) for n in np.argsort(-scores)[: MAX_HITS + 1] if np.isfinite(scores[n])]
        if not best:
            return Decision("none", [])
        runner_up = scores[best[1]] if len(best) > 1 else -np.inf
        top = float(scores[best[0]])
        kind = decide_kind(top, float(runner_up), float(plausibilities[best[0]]), thresholds)
        # One of the KB's own texts, typed again: no doubt which FAQ it asks (the calibration
        # learns from texts it has not seen, so it asks back even for the FAQ's own question).
        owners = {snapshot.text_owners.get(normalize_text(reading)) for reading in readings}
        if snapshot.faqs[best[0]].id in owners:
            kind = "answer"
        if kind == "suggest":
            lead = top - float(runner_up)
            best = [
                n
                for n in best
                if thresholds.plausibility(plausibilities[n], lead) >= thresholds.none_score
            ]
        hits = [Hit(snapshot.faqs[n], float(scores[n])) for n in best[:MAX_HITS]]
        return Decision(kind, hits)

    def embed(self, text: str) -> list[int]:
        """Return the text's normalized embedding in int8 steps (x127), to group alike questions.

        The vector the index searches with (view 0), so questions group as the engine sees them.
        """
        vector = self._encoder.encode_views([text])[0, 0]
        return [int(value) for value in np.rint(vector * EMBEDDING_SCALE)]

    def is_question(self, decision: Decision, intent: str | None) -> bool:
        """Tell whether a text that NLU gave `intent` is a question for the FAQ after all.

        It is when the FAQ answers it outright and its best FAQ outscores every NLU example of
        that intent (actions.faq.intents); a mere suggestion never overrules the classifier.
        """
        most = self._current().index.intent_scores.get(intent or "")
        return decision.kind == "answer" and most is not None and decision.hits[0].score > most

    def add_paraphrases(self, paraphrases: Iterable[tuple[str, str]]) -> Learned:
        """Teach FAQs new paraphrases, live, in memory, embedded in one batch.

        `paraphrases` are (FAQ id, text) pairs. One an FAQ already has is skipped; one of an
        unknown FAQ, without text, or already another FAQ's is refused and said why.
        """
        with self._lock:
            snapshot = self._load_locked()
            known = {faq.id for faq in snapshot.faqs}
            owners = dict(snapshot.text_owners)
            rows: list[IndexedText] = []
            refused: list[str] = []
            for faq_id, raw_text in paraphrases:
                text, key = raw_text.strip(), normalize_text(raw_text)
                owner = owners.get(key)
                if faq_id not in known:
                    refused.append(f"{text!r}: no FAQ with id {faq_id!r}")
                elif not key:
                    refused.append(f"{raw_text!r}: a paraphrase needs some text")
                elif owner is not None and owner != faq_id:
                    refused.append(f"{text!r} already belongs to FAQ {owner!r}, not {faq_id!r}")
                elif owner is None:
                    owners[key] = faq_id
                    rows.append(IndexedText(faq_id, text))
            if rows:
                embeddings = self._encoder.encode([row.text for row in rows])
                added: dict[str, list[str]] = defaultdict(list)
                for row in rows:
                    added[row.faq_id].append(row.text)
                faqs = [
                    replace(faq, paraphrases=(*faq.paraphrases, *added[faq.id]))
                    if faq.id in added
                    else faq
                    for faq in snapshot.faqs
                ]
                index = snapshot.index.with_added(embeddings, rows, fingerprint(faqs))
                self._snapshot = _Snapshot.of(faqs, index)
            return Learned(len(rows), refused)

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
            # On 2 cores one thread answers a single query faster than two (docs/ARCHITECTURE.md).
            faiss.omp_set_num_threads(1)
            if not index.intent_scores:
                logger.info(
                    "the FAQ index in %s was built without NLU data (--nlu-dir): no text that "
                    "the classifier gives a conversational intent will be answered from the FAQ",
                    self.index_dir,
                )
            self._snapshot = _Snapshot.of(faqs, index)
        return self._snapshot


_shared_engine: FaqEngine | None = None
_shared_engine_lock = threading.Lock()


def get_engine() -> FaqEngine:
    """Return the process's one engine, on the FAQ index and data of ActionSettings."""
    global _shared_engine
    with _shared_engine_lock:
        if _shared_engine is None:
            settings = ActionSettings.from_env()
            _shared_engine = FaqEngine(settings.faq_index_dir, settings.faq_data_dir)
        return _shared_engine
