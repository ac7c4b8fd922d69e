"""Retrieval quality of embeddings: each item queries all the others (itself excluded)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def leave_one_out_retrieval(z: Tensor, labels: Tensor) -> dict[str, float]:
    """Recall@1 and mean average precision, ranking by cosine similarity.

    A retrieved item is relevant when it has the query's label. Recall@1 is the fraction of
    queries whose nearest other item is relevant; AP averages precision at the rank of each
    relevant item; mAP is the mean AP over queries that have at least one relevant item.

    Args:
        z: Shape: (N, D).
        labels: Shape: (N,).
    """
    if z.ndim != 2 or labels.shape != (z.shape[0],):
        raise ValueError(
            f"need z (N, D) and labels (N,), got {tuple(z.shape)}, {tuple(labels.shape)}"
        )
    zn = F.normalize(z.float(), dim=1)
    sims = zn @ zn.T
    sims.fill_diagonal_(float("-inf"))
    order = sims.argsort(dim=1, descending=True)[:, :-1]  # (N, N-1): drop self (last)
    relevant = (labels[order] == labels[:, None]).float()  # (N, N-1)
    hits = relevant.cumsum(dim=1)
    ranks = torch.arange(1, relevant.shape[1] + 1, dtype=hits.dtype)
    n_rel = relevant.sum(dim=1)
    ap = (relevant * hits / ranks).sum(dim=1) / n_rel.clamp(min=1)
    return {
        "recall_at_1": float(relevant[:, 0].mean()),
        "map": float(ap[n_rel > 0].mean()),
    }
