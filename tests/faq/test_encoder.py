"""The ONNX encoder: the same vectors as sentence-transformers, loaded from the index directory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from actions.faq.encoder import OnnxEncoder, default_model_path, export_encoder

pytestmark = pytest.mark.slow  # exports and loads the embedding model

TEXTS = [
    "how long does a refund take",
    "Is there wifi on board the ship?",
    "I am still waiting on my card, it has been two weeks",
    "ok",
]


@pytest.fixture(scope="module")
def sentence_transformers_vectors() -> np.ndarray:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(default_model_path()), device="cpu")
    return model.encode(TEXTS, normalize_embeddings=True)


def test_fp32_export_gives_the_vectors_of_sentence_transformers(
    tmp_path: Path, sentence_transformers_vectors: np.ndarray
) -> None:
    export_encoder(tmp_path, quantize=False)
    encoder = OnnxEncoder(tmp_path, quantized=False)

    np.testing.assert_allclose(encoder.encode(TEXTS), sentence_transformers_vectors, atol=1e-4)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["encoder.onnx", "tokenizer.json"]
    assert encoder.name == "all-MiniLM-L6-v2 onnx fp32"


def test_int8_vectors_stay_close_and_one_query_matches_a_batch(
    encoder: OnnxEncoder, sentence_transformers_vectors: np.ndarray
) -> None:
    vectors = encoder.encode(TEXTS)
    one_by_one = np.concatenate([encoder.encode([text]) for text in TEXTS])

    assert encoder.dimension == 384 and vectors.dtype == np.float32
    # Dynamic int8 quantization costs a little, most on the shortest texts.
    assert np.all(np.sum(vectors * sentence_transformers_vectors, axis=1) > 0.85)
    # Activations are quantized with ranges taken over the whole batch.
    assert np.all(np.sum(vectors * one_by_one, axis=1) > 0.95)


def test_views_are_normalized_and_the_first_is_the_sentence_embedding(
    encoder: OnnxEncoder,
) -> None:
    views = encoder.encode_views(TEXTS)

    assert views.shape == (len(TEXTS), 7, 384)
    np.testing.assert_allclose(np.linalg.norm(views, axis=2), 1.0, atol=1e-5)
    np.testing.assert_array_equal(views[:, 0], encoder.encode(TEXTS))


def test_a_missing_export_says_to_rebuild(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="rebuild the index"):
        OnnxEncoder(tmp_path).encode(["wifi?"])
