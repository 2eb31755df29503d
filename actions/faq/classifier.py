"""A softmax classifier of FAQs over the encoder's views, trained on the knowledge base itself.

Nearest neighbours read only the last layer's mean; a linear classifier over every layer
(`Encoder.encode_views`) separates close FAQs better, and the two together rank best.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from knowledge_base.files import replace_file

# Fixed training recipe (multinomial logistic regression by minibatch Adam from zero): a few
# passes fit ten thousand texts in seconds; a small KB gets at least MIN_STEPS updates.
EPOCHS = 10
MIN_STEPS = 300
BATCH_SIZE = 128
LEARNING_RATE = 1e-2


@dataclass(frozen=True)
class Classifier:
    """Weights of a linear softmax classifier: features x FAQs, and one bias per FAQ."""

    weights: np.ndarray
    bias: np.ndarray

    def log_probabilities(self, features: np.ndarray) -> np.ndarray:
        """Return queries x FAQs log-probabilities for flattened views."""
        logits = features @ self.weights + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        return logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))

    def save(self, path: Path) -> None:
        """Write the weights as an .npz file (plain arrays, no pickle), replaced atomically."""
        buffer = io.BytesIO()
        np.savez(buffer, weights=self.weights, bias=self.bias)
        replace_file(Path(path), buffer.getvalue())

    @classmethod
    def load(cls, path: Path) -> Classifier:
        """Read weights written by save()."""
        with np.load(path, allow_pickle=False) as arrays:
            return cls(weights=arrays["weights"], bias=arrays["bias"])


def fit_classifier(
    features: np.ndarray, row_faqs: np.ndarray, n_faqs: int, seed: int = 0
) -> Classifier:
    """Train on rows of flattened views labelled with FAQ numbers below n_faqs."""
    # Imported here: only index builds train; the action server never needs autograd.
    import torch
    import torch.nn.functional as functional

    generator = torch.Generator().manual_seed(seed)
    inputs = torch.from_numpy(np.ascontiguousarray(features, dtype=np.float32))
    targets = torch.from_numpy(np.asarray(row_faqs, dtype=np.int64))
    layer = torch.nn.Linear(inputs.shape[1], n_faqs)
    torch.nn.init.zeros_(layer.weight)
    torch.nn.init.zeros_(layer.bias)
    optimizer = torch.optim.Adam(layer.parameters(), lr=LEARNING_RATE)
    batches_per_epoch = -(-len(inputs) // BATCH_SIZE)
    epochs = max(EPOCHS, -(-MIN_STEPS // batches_per_epoch))
    for _ in range(epochs):
        for batch in torch.randperm(len(inputs), generator=generator).split(BATCH_SIZE):
            loss = functional.cross_entropy(layer(inputs[batch]), targets[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return Classifier(
        weights=layer.weight.detach().numpy().T.copy(), bias=layer.bias.detach().numpy().copy()
    )
