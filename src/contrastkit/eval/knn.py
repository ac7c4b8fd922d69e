"""Weighted k-nearest-neighbour classification (Wu et al. 2018, arXiv:1805.01978).

Neighbours are searched in chunks of queries, so memory is O(chunk_size x M) for a bank of
M embeddings, never O(Q x M).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

Metric = Literal["cosine", "euclidean"]


def _check_pair(bank: Tensor, queries: Tensor) -> None:
    if bank.ndim != 2 or queries.ndim != 2 or bank.shape[1] != queries.shape[1]:
        raise ValueError(
            f"bank (M, D) and queries (Q, D) must share D, got {tuple(bank.shape)} and "
            f"{tuple(queries.shape)}"
        )


def similarity(queries: Tensor, bank: Tensor, *, metric: Metric) -> Tensor:
    """Pairwise similarity, larger = closer: cosine, or minus the Euclidean distance.

    Args:
        queries: Shape: (Q, D).
        bank: Shape: (M, D).

    Returns:
        Shape: (Q, M), float32.
    """
    if metric == "cosine":
        return F.normalize(queries.float(), dim=1) @ F.normalize(bank.float(), dim=1).T
    if metric == "euclidean":
        return -torch.cdist(queries.float(), bank.float())
    raise ValueError(f"metric must be 'cosine' or 'euclidean', got {metric!r}")


def nearest_neighbours(
    bank: Tensor,
    queries: Tensor,
    *,
    k: int,
    metric: Metric = "cosine",
    chunk_size: int = 1024,
    exclude_self: bool = False,
) -> Iterator[tuple[Tensor, Tensor]]:
    """Yield, chunk by chunk of queries, the similarities and bank indices of the k nearest.

    Args:
        bank: Shape: (M, D).
        queries: Shape: (Q, D).
        k: Neighbours per query (clipped to the bank size).
        exclude_self: Queries are the bank itself (Q == M); query i never returns bank i.

    Yields:
        `(sims, idx)`, each Shape: (q, k) for the next q <= chunk_size queries, sorted by
        decreasing similarity.
    """
    _check_pair(bank, queries)
    if exclude_self and bank.shape[0] != queries.shape[0]:
        raise ValueError(f"exclude_self needs queries == bank, got {queries.shape[0]} queries")
    k = min(k, bank.shape[0] - int(exclude_self))
    if k < 1:
        raise ValueError(f"need k >= 1 neighbours, got k={k} for a bank of {bank.shape[0]}")
    for start in range(0, queries.shape[0], chunk_size):
        sims = similarity(queries[start : start + chunk_size], bank, metric=metric)  # (q, M)
        if exclude_self:
            rows = torch.arange(sims.shape[0], device=sims.device)
            sims[rows, rows + start] = float("-inf")
        yield sims.topk(k, dim=1)


def knn_predict(
    bank: Tensor,
    bank_labels: Tensor,
    queries: Tensor,
    *,
    num_classes: int,
    k: int = 20,
    temperature: float = 0.07,
    metric: Metric = "cosine",
    chunk_size: int = 1024,
) -> Tensor:
    """Predict each query's class by a weighted vote of its k nearest bank entries.

    Neighbour j votes for its class with weight exp(s_j / temperature), where s_j is the
    cosine similarity (metric="cosine") or minus the Euclidean distance (metric="euclidean");
    the class with the largest summed weight wins. The weights are shifted by each query's
    best similarity before `exp`, which changes no vote and cannot overflow.

    Args:
        bank: Shape: (M, D), reference embeddings (e.g. the training split).
        bank_labels: Shape: (M,), int64 in [0, num_classes).
        queries: Shape: (Q, D).
        num_classes: Number of classes.
        k: Neighbours per query (clipped to M).
        temperature: > 0, sharpness of the similarity weights.
        metric: "cosine" or "euclidean".
        chunk_size: Queries per chunk; memory is O(chunk_size x M).

    Returns:
        Shape: (Q,), int64 predicted classes.

    Raises:
        ValueError: shapes disagree, k < 1 or temperature <= 0.
    """
    _check_pair(bank, queries)
    if bank_labels.shape != (bank.shape[0],):
        raise ValueError(f"bank_labels must be ({bank.shape[0]},), got {tuple(bank_labels.shape)}")
    if k < 1 or temperature <= 0:
        raise ValueError(f"need k >= 1 and temperature > 0, got k={k}, temperature={temperature}")
    preds = []
    for sims, idx in nearest_neighbours(bank, queries, k=k, metric=metric, chunk_size=chunk_size):
        weights = ((sims - sims[:, :1]) / temperature).exp()  # (q, k)
        votes = torch.zeros(sims.shape[0], num_classes, dtype=weights.dtype, device=sims.device)
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
    metric: Metric = "cosine",
) -> float:
    """Top-1 accuracy of `knn_predict`, a fraction in [0, 1]."""
    preds = knn_predict(
        bank,
        bank_labels,
        queries,
        num_classes=num_classes,
        k=k,
        temperature=temperature,
        metric=metric,
    )
    return float((preds == query_labels).float().mean())
