"""A linear map of the embedding space, learnt from the knowledge base's own FAQ labels."""

from __future__ import annotations

import numpy as np

# Fixed training recipe: identity start, so a short run on a small KB stays close to the
# plain model, and whether the map is used at all is decided by calibration.
EPOCHS = 10
BATCH_SIZE = 256
LEARNING_RATE = 1e-3
PROTOTYPE_TEMPERATURE = 0.05


def fit_adapter(embeddings: np.ndarray, row_faqs: np.ndarray, seed: int = 0) -> np.ndarray:
    """Return a d x d matrix W such that normalize(x @ W) separates the FAQs better."""
    # Imported here: only index builds train; the action server never needs autograd.
    import torch
    import torch.nn.functional as functional

    _, labels = np.unique(row_faqs, return_inverse=True)
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.from_numpy(np.ascontiguousarray(embeddings, dtype=np.float32))
    targets = torch.from_numpy(labels)
    centroids = np.stack(
        [embeddings[labels == label].mean(axis=0) for label in range(labels.max() + 1)]
    )
    weights = torch.nn.Parameter(torch.eye(embeddings.shape[1]))
    prototypes = torch.nn.Parameter(torch.from_numpy(centroids.astype(np.float32)))
    optimizer = torch.optim.Adam([weights, prototypes], lr=LEARNING_RATE)
    for _ in range(EPOCHS):
        for batch in torch.randperm(len(inputs), generator=generator).split(BATCH_SIZE):
            mapped = functional.normalize(inputs[batch] @ weights, dim=1)
            logits = mapped @ functional.normalize(prototypes, dim=1).T / PROTOTYPE_TEMPERATURE
            loss = functional.cross_entropy(logits, targets[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return weights.detach().numpy().copy()


def apply_adapter(embeddings: np.ndarray, adapter: np.ndarray | None) -> np.ndarray:
    """Map embeddings through the adapter (if any) and normalize them again."""
    if adapter is None:
        return embeddings
    mapped = embeddings @ adapter
    return (mapped / np.linalg.norm(mapped, axis=1, keepdims=True)).astype(np.float32)
