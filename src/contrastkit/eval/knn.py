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


def class_nearest(
    bank: Tensor,
    bank_labels: Tensor,
    queries: Tensor,
    *,
    num_classes: int,
    k: int,
    metric: Metric = "cosine",
    chunk_size: int = 1024,
) -> Iterator[Tensor]:
    """Yield, chunk by chunk of queries, the similarities of the k nearest bank entries of
    every class. One pass over the similarities serves the kNN vote (the k nearest overall
    are among the classes' k nearest) and the one-class anomaly scores (each class's own).

    Args:
        bank: Shape: (M, D).
        bank_labels: Shape: (M,), int64 in [0, num_classes).
        queries: Shape: (Q, D).
        k: Neighbours per class, >= 1.

    Yields:
        Shape: (q, num_classes, k) for the next q <= chunk_size queries, best first; -inf
        past the entries of a class with fewer than k.
    """
    _check_pair(bank, queries)
    if bank_labels.shape != (bank.shape[0],):
        raise ValueError(f"bank_labels must be ({bank.shape[0]},), got {tuple(bank_labels.shape)}")
    if k < 1:
        raise ValueError(f"need k >= 1 neighbours per class, got k={k}")
    order = bank_labels.argsort(stable=True)
    bank = bank[order]  # each class's entries side by side
    counts = torch.bincount(bank_labels, minlength=num_classes).tolist()
    ends = torch.tensor(counts).cumsum(dim=0).tolist()
    for start in range(0, queries.shape[0], chunk_size):
        sims = similarity(queries[start : start + chunk_size], bank, metric=metric)  # (q, M)
        nearest = sims.new_full((sims.shape[0], num_classes, k), float("-inf"))
        for c, (count, end) in enumerate(zip(counts, ends, strict=True)):
            if count:
                nearest[:, c, : min(k, count)] = (
                    sims[:, end - count : end].topk(min(k, count)).values
                )
        yield nearest


def knn_vote(nearest: Tensor, *, k: int, temperature: float) -> Tensor:
    """The weighted vote of the k nearest entries overall (`knn_predict`), from each class's
    nearest (Shape: (q, C, k' >= k), `class_nearest`). Returns Shape: (q,), int64."""
    sims, idx = nearest.flatten(1).topk(k, dim=1)  # (q, k), best first; class = idx // k'
    weights = ((sims - sims[:, :1]) / temperature).exp()  # exp(-inf) = 0: no entry, no vote
    votes = torch.zeros(nearest.shape[:2], dtype=weights.dtype, device=nearest.device)
    votes.scatter_add_(1, idx // nearest.shape[2], weights)
    return votes.argmax(dim=1)


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
    if k < 1 or temperature <= 0:
        raise ValueError(f"need k >= 1 and temperature > 0, got k={k}, temperature={temperature}")
    k = min(k, bank.shape[0])
    chunks = class_nearest(
        bank, bank_labels, queries, num_classes=num_classes, k=k, metric=metric,
        chunk_size=chunk_size,
    )  # fmt: skip
    return torch.cat([knn_vote(nearest, k=k, temperature=temperature) for nearest in chunks])
