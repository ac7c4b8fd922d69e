"""Retrieval quality: queries rank a gallery by similarity; an item is relevant when it has
the query's label. A query is never retrieved for itself (same id in query and gallery).

Metrics, averaged over the queries that have at least one relevant gallery item
(rel_i = 1 when the item at rank i is relevant, R = number of relevant items):

- Recall@k: 1 when a relevant item is among the first k (the metric-learning convention).
- mAP: AP = (1/R) sum_i P(i) rel_i over the whole ranking, P(i) = precision at rank i.
- mAP@R: AP@R = (1/R) sum_{i <= R} P(i) rel_i (Musgrave et al. 2020, arXiv:2003.08505).
- MRR: 1 / rank of the first relevant item.
- NDCG@k: sum_{i <= k} rel_i / log2(i + 1), divided by its best value over min(R, k) items.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from contrastkit.eval.knn import Metric, similarity


def check_query_gallery(
    query: Tensor, gallery: Tensor, query_keys: Tensor, gallery_keys: Tensor, *, keys: str
) -> None:
    """Raise ValueError naming the shapes unless `query` (Q, D) and `gallery` (G, D) share
    D and their `keys` (labels or ids) are (Q,) and (G,)."""
    if query.ndim != 2 or gallery.ndim != 2 or query.shape[1] != gallery.shape[1]:
        raise ValueError(
            f"query (Q, D) and gallery (G, D) must share D, got {tuple(query.shape)} and "
            f"{tuple(gallery.shape)}"
        )
    if query_keys.shape != (query.shape[0],) or gallery_keys.shape != (gallery.shape[0],):
        raise ValueError(
            f"{keys} must be (Q,) and (G,), got {tuple(query_keys.shape)} and "
            f"{tuple(gallery_keys.shape)} for Q={query.shape[0]}, G={gallery.shape[0]}"
        )


def _relevant_ranks(sims: Tensor, relevant: Tensor) -> tuple[Tensor, Tensor]:
    """The rank (1-based) of each query's relevant items, best first, without sorting the
    whole gallery: a relevant item's rank is its place among the relevant items plus the
    irrelevant items scored above it (strictly: ties go to the relevant item), counted by
    binary search of every irrelevant score among the sorted relevant ones.

    Args:
        sims: Shape: (q, G); -inf for items left out of the ranking.
        relevant: Shape: (q, G), bool.

    Returns:
        ranks Shape: (q, R_max), float64, +inf past each query's R relevant items;
        n_rel Shape: (q,), R.
    """
    valid = sims > float("-inf")
    relevant = relevant & valid
    n_rel = relevant.sum(dim=1)  # (q,) = R
    r_max = max(int(n_rel.max()), 1) if n_rel.numel() else 1
    neg_inf = torch.full_like(sims, float("-inf"))
    best_first = torch.where(relevant, sims, neg_inf).topk(r_max, dim=1).values  # (q, R_max)
    ascending = best_first.flip(1).contiguous()  # -inf padding first
    below = torch.searchsorted(ascending, torch.where(relevant, neg_inf, sims).contiguous())
    # an irrelevant item with `below` relevant scores under it is above the best-first
    # relevant items from index r_max - below on; r_max: above none (and -inf items)
    above = torch.zeros(sims.shape[0], r_max + 1, dtype=torch.long, device=sims.device)
    above.scatter_add_(1, r_max - below, torch.ones_like(below))
    position = torch.arange(1, r_max + 1, dtype=torch.float64, device=sims.device)
    ranks = position + above[:, :r_max].cumsum(dim=1).double()  # (q, R_max)
    real = position[None, :] <= n_rel[:, None]
    return torch.where(real, ranks, float("inf")), n_rel


def _sums(sims: Tensor, relevant: Tensor, ks: Sequence[int], ndcg_k: int) -> dict[str, Tensor]:
    """Per-query metric values for one chunk, from the ranks of the relevant items (the
    k-th relevant item at rank r_k contributes precision k / r_k). sims, relevant: (q, G)."""
    ranks, n_rel = _relevant_ranks(sims, relevant)  # (q, R_max), (q,)
    r = n_rel.clamp(min=1).double()
    found = torch.arange(1, ranks.shape[1] + 1, dtype=torch.float64, device=ranks.device)
    precision = found / ranks  # (q, R_max), P(r_k) = k / r_k; 0 past R
    first = ranks[:, 0]  # rank of the first relevant item
    out = {f"recall_at_{k}": (first <= k).double() for k in ks}
    out["map"] = precision.sum(dim=1) / r
    out["map_at_r"] = (precision * (ranks <= r[:, None])).sum(dim=1) / r
    out["mrr"] = 1.0 / first
    gains = torch.where(ranks <= ndcg_k, 1.0 / torch.log2(ranks + 1), 0.0)
    discount = 1.0 / torch.log2(torch.arange(2, ndcg_k + 2, dtype=torch.float64, device=r.device))
    ideal = discount.cumsum(dim=0)[n_rel.clamp(min=1, max=ndcg_k) - 1]  # min(R, k) hits on top
    out[f"ndcg_at_{ndcg_k}"] = gains.sum(dim=1) / ideal
    return {key: value[n_rel > 0] for key, value in out.items()}


def retrieval_scores(
    query: Tensor,
    query_labels: Tensor,
    gallery: Tensor,
    gallery_labels: Tensor,
    *,
    query_ids: Tensor | None = None,
    gallery_ids: Tensor | None = None,
    ks: Sequence[int] = (1, 5, 10),
    ndcg_k: int = 10,
    metric: Metric = "cosine",
    chunk_size: int = 256,
) -> dict[str, float]:
    """Recall@k, mAP, mAP@R, MRR and NDCG@k of `query` against `gallery` (module docstring).

    Args:
        query: Shape: (Q, D).
        query_labels: Shape: (Q,).
        gallery: Shape: (G, D).
        gallery_labels: Shape: (G,).
        query_ids: Shape: (Q,); gallery items with the same id are left out of that
            query's ranking (pass the same ids when query and gallery share items).
        gallery_ids: Shape: (G,); needed with `query_ids`.
        ks: Cut-offs for Recall@k.
        ndcg_k: Cut-off for NDCG.
        metric: "cosine" or "euclidean" (ranking by minus the distance).
        chunk_size: Queries per chunk; memory is O(chunk_size x G).

    Returns:
        `{"recall_at_<k>", "map", "map_at_r", "mrr", "ndcg_at_<ndcg_k>", "num_queries"}`,
        `num_queries` counting the queries with a relevant item.
    """
    check_query_gallery(query, gallery, query_labels, gallery_labels, keys="labels")
    if (query_ids is None) != (gallery_ids is None):
        raise ValueError("pass both query_ids and gallery_ids, or neither")
    if min(ks, default=1) < 1 or ndcg_k < 1:
        raise ValueError(f"cut-offs must be >= 1, got ks={list(ks)}, ndcg_k={ndcg_k}")
    parts: list[dict[str, Tensor]] = []
    for start in range(0, query.shape[0], chunk_size):
        stop = start + chunk_size
        sims = similarity(query[start:stop], gallery, metric=metric)  # (q, G)
        if query_ids is not None and gallery_ids is not None:
            sims[query_ids[start:stop, None] == gallery_ids[None, :]] = float("-inf")
        relevant = query_labels[start:stop, None] == gallery_labels[None, :]  # (q, G)
        parts.append(_sums(sims, relevant, ks, ndcg_k))
    merged = {key: torch.cat([p[key] for p in parts]) for key in parts[0]}
    count = int(merged["map"].numel())
    scores = {key: float(v.mean()) if count else 0.0 for key, v in merged.items()}
    return {**scores, "num_queries": count}


def leave_one_out_retrieval(
    z: Tensor,
    labels: Tensor,
    *,
    ks: Sequence[int] = (1, 5, 10),
    ndcg_k: int = 10,
    metric: Metric = "cosine",
) -> dict[str, float]:
    """Each item queries all the others: `retrieval_scores` with query = gallery = z.

    Args:
        z: Shape: (N, D).
        labels: Shape: (N,).
    """
    if z.ndim != 2 or labels.shape != (z.shape[0],):
        raise ValueError(
            f"need z (N, D) and labels (N,), got {tuple(z.shape)}, {tuple(labels.shape)}"
        )
    ids = torch.arange(z.shape[0], device=z.device)
    return retrieval_scores(
        z, labels, z, labels, query_ids=ids, gallery_ids=ids, ks=ks, ndcg_k=ndcg_k, metric=metric
    )
