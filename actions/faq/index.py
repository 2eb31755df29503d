"""The FAQ vector index: a faiss inner-product index on disk with its JSON metadata."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from actions.faq.calibration import Thresholds, calibrate
from actions.faq.classifier import Classifier
from actions.faq.encoder import Encoder
from knowledge_base.faqs import Faq, fingerprint
from knowledge_base.files import replace_file

logger = logging.getLogger(__name__)

INDEX_FILE = "index.faiss"
METADATA_FILE = "metadata.json"
CLASSIFIER_FILE = "classifier.npz"
FORMAT_VERSION = 3


class FaqIndexError(RuntimeError):
    """The index cannot be used: missing, damaged, or built for other data or another model."""


@dataclass(frozen=True)
class IndexedText:
    """One vector of the index: which FAQ it stands for and the text embedded."""

    faq_id: str
    text: str


class FaqIndex:
    """Normalized embeddings of every FAQ text in a flat inner-product (cosine) index."""

    def __init__(
        self,
        vectors: faiss.Index,
        rows: list[IndexedText],
        model_name: str,
        faq_sha256: str,
        thresholds: Thresholds,
        classifier: Classifier | None = None,
        intent_scores: dict[str, float] | None = None,
    ) -> None:
        if vectors.ntotal != len(rows):
            raise FaqIndexError(f"index has {vectors.ntotal} vectors but {len(rows)} rows")
        self.vectors = vectors
        self.rows = rows
        self.model_name = model_name
        self.faq_sha256 = faq_sha256
        self.thresholds = thresholds
        self.classifier = classifier
        # Per conversational intent, the best FAQ score of its NLU examples (actions.faq.intents).
        self.intent_scores = dict(intent_scores or {})

    @classmethod
    def from_embeddings(
        cls,
        embeddings: np.ndarray,
        rows: list[IndexedText],
        model_name: str,
        faq_sha256: str,
        thresholds: Thresholds,
        classifier: Classifier | None = None,
    ) -> FaqIndex:
        """Create an index over normalized embeddings, one per row."""
        vectors = faiss.IndexFlatIP(embeddings.shape[1])
        vectors.add(np.ascontiguousarray(embeddings, dtype=np.float32))
        return cls(vectors, rows, model_name, faq_sha256, thresholds, classifier)

    @property
    def dimension(self) -> int:
        """Return the length of the indexed vectors."""
        return int(self.vectors.d)

    def similarities(self, queries: np.ndarray) -> np.ndarray:
        """Return queries x rows cosine similarities, computed by faiss over every row."""
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        # A flat index scans every row anyway; a range search below the lowest possible
        # cosine returns them all, unsorted, so pooling per FAQ is exact.
        limits, scores, row_numbers = self.vectors.range_search(queries, -2.0)
        similarities = np.full((len(queries), self.vectors.ntotal), -np.inf, dtype=np.float32)
        for query in range(len(queries)):
            found = slice(limits[query], limits[query + 1])
            similarities[query, row_numbers[found]] = scores[found]
        return similarities

    def with_added(
        self, embeddings: np.ndarray, rows: list[IndexedText], faq_sha256: str
    ) -> FaqIndex:
        """Return a copy with more vectors, one per row, so searches on this one never change."""
        vectors = faiss.clone_index(self.vectors)
        vectors.add(np.ascontiguousarray(embeddings, dtype=np.float32))
        return FaqIndex(
            vectors,
            [*self.rows, *rows],
            self.model_name,
            faq_sha256,
            self.thresholds,
            self.classifier,
            self.intent_scores,
        )

    def with_intent_scores(self, intent_scores: dict[str, float]) -> FaqIndex:
        """Return this index with the intents' NLU examples measured against it."""
        return FaqIndex(
            self.vectors,
            self.rows,
            self.model_name,
            self.faq_sha256,
            self.thresholds,
            self.classifier,
            intent_scores,
        )

    def save(self, index_dir: Path) -> None:
        """Write the faiss index and its metadata, each replaced atomically."""
        index_dir = Path(index_dir)
        index_dir.mkdir(parents=True, exist_ok=True)
        metadata = {
            "format_version": FORMAT_VERSION,
            "model_name": self.model_name,
            "dimension": self.dimension,
            "count": len(self.rows),
            "faq_sha256": self.faq_sha256,
            "thresholds": asdict(self.thresholds),
            "classifier": self.classifier is not None,
            "intent_scores": self.intent_scores,
            "rows": [asdict(row) for row in self.rows],
        }
        replace_file(index_dir / INDEX_FILE, faiss.serialize_index(self.vectors).tobytes())
        if self.classifier is not None:
            self.classifier.save(index_dir / CLASSIFIER_FILE)
        text = json.dumps(metadata, ensure_ascii=False, indent=1)
        replace_file(index_dir / METADATA_FILE, text.encode("utf-8"))

    @classmethod
    def load(cls, index_dir: Path, model_name: str, faq_sha256: str) -> FaqIndex:
        """Load an index, refusing one built with another model or from other FAQ data."""
        index_dir = Path(index_dir)
        metadata_path = index_dir / METADATA_FILE
        if not metadata_path.exists() or not (index_dir / INDEX_FILE).exists():
            raise FaqIndexError(
                f"no FAQ index in {index_dir}: build it with "
                f"`python -m actions.faq build --out {index_dir}`"
            )
        metadata = _read_metadata(metadata_path)
        if metadata["model_name"] != model_name:
            raise FaqIndexError(
                f"the FAQ index in {index_dir} was built with model '{metadata['model_name']}', "
                f"not '{model_name}': rebuild it"
            )
        if metadata["faq_sha256"] != faq_sha256:
            raise FaqIndexError(
                f"the FAQ index in {index_dir} was built from other FAQ data "
                "(questions or paraphrases changed since): rebuild it"
            )
        try:
            vectors = faiss.read_index(str(index_dir / INDEX_FILE))
        except RuntimeError as error:
            raise FaqIndexError(f"cannot read {index_dir / INDEX_FILE}: {error}") from error
        if vectors.d != metadata["dimension"] or vectors.ntotal != metadata["count"]:
            raise FaqIndexError(
                f"{index_dir / INDEX_FILE} does not match its metadata "
                f"({vectors.ntotal}x{vectors.d}, expected "
                f"{metadata['count']}x{metadata['dimension']}): rebuild it"
            )
        rows = [IndexedText(**row) for row in metadata["rows"]]
        classifier = (
            Classifier.load(index_dir / CLASSIFIER_FILE) if metadata["classifier"] else None
        )
        thresholds = Thresholds(**metadata["thresholds"])
        return cls(
            vectors, rows, model_name, faq_sha256, thresholds, classifier, metadata["intent_scores"]
        )


def build_index(faqs: list[Faq], encoder: Encoder, show_progress: bool = False) -> FaqIndex:
    """Embed every question and paraphrase and calibrate the decision on them."""
    rows = [IndexedText(faq.id, text) for faq in faqs for text in faq.texts]
    logger.info("embedding %d texts of %d FAQs with %s", len(rows), len(faqs), encoder.name)
    views = encoder.encode_views([row.text for row in rows], show_progress=show_progress)
    faq_numbers = {faq.id: number for number, faq in enumerate(faqs)}
    logger.info("training the classifier and calibrating the decision thresholds")
    calibration = calibrate(views, [faq_numbers[row.faq_id] for row in rows], len(faqs))
    return FaqIndex.from_embeddings(
        views[:, 0],
        rows,
        encoder.name,
        fingerprint(faqs),
        calibration.thresholds,
        calibration.classifier,
    )


def _read_metadata(path: Path) -> dict[str, Any]:
    try:
        metadata = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise FaqIndexError(f"cannot read {path}: {error}") from error
    if metadata.get("format_version") != FORMAT_VERSION:
        raise FaqIndexError(
            f"{path} has format version {metadata.get('format_version')}, "
            f"this code reads {FORMAT_VERSION}: rebuild the index"
        )
    return metadata
