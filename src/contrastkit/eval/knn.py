"""Weighted k-nearest-neighbour classification (Wu et al. 2018, arXiv:1805.01978)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def knn_predict(
    bank: Tensor,
    bank_labels: Tensor,
    queries: Tensor,
    *,
    num_classes: int,
    k: int = 20,
    temperature: float = 0.07,
    chunk_size: int = 1024,
) -> Tensor:
    """Predict each query's class by a vote of its k most cosine-similar bank entries.

    Each neighbour j votes for its class with weight exp(s_j / temperature), s_j the cosine
    similarity; the class with the largest summed weight wins. Queries are processed in
    chunks of `chunk_size`, so memory is O(chunk_size x len(bank)).

    Args:
        bank: Shape: (M, D), reference embeddings (e.g. the training split).
        bank_labels: Shape: (M,), int64 in [0, num_classes).
        queries: Shape: (Q, D).
        num_classes: Number of classes.
        k: Neighbours per query (clipped to M).
        temperature: > 0, sharpness of the similarity weights.

    Returns:
        Shape: (Q,), int64 predicted classes.
    """
    if bank.ndim != 2 or queries.ndim != 2 or bank.shape[1] != queries.shape[1]:
        raise ValueError(
            f"bank (M, D) and queries (Q, D) must share D, got {tuple(bank.shape)} and "
            f"{tuple(queries.shape)}"
        )
    if bank_labels.shape != (bank.shape[0],):
        raise ValueError(f"bank_labels must be ({bank.shape[0]},), got {tuple(bank_labels.shape)}")
    if k < 1 or temperature <= 0:
        raise ValueError(f"need k >= 1 and temperature > 0, got k={k}, temperature={temperature}")
    k = min(k, bank.shape[0])
    bank_n = F.normalize(bank.float(), dim=1)
    preds = []
    for start in range(0, queries.shape[0], chunk_size):
        q = F.normalize(queries[start : start + chunk_size].float(), dim=1)
        sims, idx = (q @ bank_n.T).topk(k, dim=1)  # (q, k)
        weights = (sims / temperature).exp()
        votes = torch.zeros(q.shape[0], num_classes, dtype=weights.dtype, device=q.device)
        votes.scatter_add_(1, bank_labels[idx], weights)
        preds.append(votes.argmax(dim=1))
    return torch.cat(preds)


def knn_accuracy(
    bank: Tensor,
    bank_labels: Tensor,
    queries: Tensor,
    query_labels: Tensor,
    *,
    num_classes: int,
    k: int = 20,
    temperature: float = 0.07,
) -> float:
    """Top-1 accuracy of `knn_predict`, a fraction in [0, 1]."""
    preds = knn_predict(
        bank, bank_labels, queries, num_classes=num_classes, k=k, temperature=temperature
    )
    return float((preds == query_labels).float().mean())
