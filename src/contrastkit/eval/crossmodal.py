"""Cross-modal retrieval and zero-shot classification over embeddings (pure functions).

Relevance is by group id: a candidate is relevant to a query when their ids are equal
(the same word, digit or caption), so a query may have several relevant candidates.

    Recall@k = fraction of queries with a relevant candidate among the k most similar
    MRR      = mean over queries of 1 / (rank of the first relevant candidate)

Chance levels are exact for a uniformly random ranking: with C candidates of which r are
relevant, P(none in the top k) = C(C - r, k) / C(C, k) and
P(first relevant at rank j) = C(C - j, r - 1) / C(C, r).
"""

from __future__ import annotations

from functools import lru_cache
from math import comb

import torch
from torch import Tensor

from contrastkit.eval.classification import top1_accuracy
from contrastkit.eval.retrieval import check_query_gallery

KS = (1, 5, 10)


def first_relevant_rank(sim: Tensor, relevant: Tensor) -> Tensor:
    """1-based rank of the first relevant candidate of each query (ties broken by index;
    C + 1 when a query has none).

    Args:
        sim: Similarities. Shape: (Q, C).
        relevant: Shape: (Q, C), bool.

    Returns:
        Shape: (Q,), int64.
    """
    order = sim.argsort(dim=1, descending=True, stable=True)  # (Q, C)
    hits = relevant.gather(1, order)  # (Q, C): relevance in rank order
    ranks = torch.where(hits.any(dim=1), hits.float().argmax(dim=1) + 1, sim.shape[1] + 1)
    return ranks.long()


@lru_cache(maxsize=4096)
def _chance(c: int, r: int, k: int) -> float:
    """P(a relevant item in the top k) of a random ranking of c items, r relevant."""
    return 1.0 - comb(c - r, k) / comb(c, k) if r > 0 else 0.0


@lru_cache(maxsize=4096)
def _chance_mrr(c: int, r: int) -> float:
    if r == 0:
        return 0.0
    total = comb(c, r)
    return sum(comb(c - j, r - 1) / total / j for j in range(1, c - r + 2))


def retrieval_metrics(
    queries: Tensor,
    cands: Tensor,
    q_ids: Tensor,
    c_ids: Tensor,
    *,
    ks: tuple[int, ...] = KS,
) -> dict[str, float]:
    """Recall@k and MRR of cosine-similarity retrieval, and their chance levels.

    Args:
        queries: Shape: (Q, D).
        cands: Shape: (C, D).
        q_ids: Group id of each query. Shape: (Q,).
        c_ids: Group id of each candidate. Shape: (C,).

    Returns:
        `recall_at_{k}`, `mrr`, `chance_recall_at_{k}`, `chance_mrr`, `queries`, `candidates`.
    """
    check_query_gallery(queries, cands, q_ids, c_ids, keys="ids")
    q = torch.nn.functional.normalize(queries.float(), dim=1)
    c = torch.nn.functional.normalize(cands.float(), dim=1)
    relevant = q_ids[:, None] == c_ids[None, :]  # (Q, C)
    ranks = first_relevant_rank(q @ c.T, relevant).float()  # (Q,)
    n_rel = relevant.sum(dim=1).tolist()
    n_c = int(c.shape[0])
    out: dict[str, float] = {}
    for k in ks:
        out[f"recall_at_{k}"] = float((ranks <= k).float().mean())
    out["mrr"] = float(torch.where(ranks <= n_c, 1.0 / ranks, 0.0).mean())
    for k in ks:
        out[f"chance_recall_at_{k}"] = sum(_chance(n_c, r, min(k, n_c)) for r in n_rel) / len(n_rel)
    out["chance_mrr"] = sum(_chance_mrr(n_c, r) for r in n_rel) / len(n_rel)
    out["queries"], out["candidates"] = float(len(n_rel)), float(n_c)
    return out


def zero_shot_accuracy(
    x_emb: Tensor, class_emb: Tensor, labels: Tensor, class_ids: Tensor
) -> float:
    """Top-1 accuracy of assigning each sample the class whose prompt embedding is closest.

    Args:
        x_emb: Sample embeddings. Shape: (N, D).
        class_emb: One (prompt-averaged) embedding per class. Shape: (K, D).
        labels: Class id of each sample. Shape: (N,).
        class_ids: Class id of each row of `class_emb`. Shape: (K,).
    """
    check_query_gallery(x_emb, class_emb, labels, class_ids, keys="labels and class ids")
    sim = (
        torch.nn.functional.normalize(x_emb.float(), dim=1)
        @ torch.nn.functional.normalize(class_emb.float(), dim=1).T
    )  # (N, K)
    return top1_accuracy(class_ids[sim.argmax(dim=1)], labels)
