"""Retrieval metrics against a slow, obvious per-query Python loop (query/gallery with
shared ids, so the query-exclusion path is checked too)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from contrastkit.eval.retrieval import retrieval_scores


def slow_retrieval(
    q: np.ndarray,
    q_lab: np.ndarray,
    q_ids: np.ndarray,
    g: np.ndarray,
    g_lab: np.ndarray,
    g_ids: np.ndarray,
    ks: tuple[int, ...],
    ndcg_k: int,
) -> dict[str, float]:
    qn = q / np.linalg.norm(q, axis=1, keepdims=True)
    gn = g / np.linalg.norm(g, axis=1, keepdims=True)
    per: dict[str, list[float]] = {}
    for i in range(len(q)):
        candidates = [j for j in range(len(g)) if g_ids[j] != q_ids[i]]
        ranked = sorted(candidates, key=lambda j: -float(qn[i] @ gn[j]))
        rel = [1 if g_lab[j] == q_lab[i] else 0 for j in ranked]
        big_r = sum(rel)
        if big_r == 0:
            continue
        hits, ap, ap_r = 0, 0.0, 0.0
        for rank, r in enumerate(rel, start=1):
            hits += r
            if r:
                ap += hits / rank
                if rank <= big_r:
                    ap_r += hits / rank
        values = {f"recall_at_{k}": float(any(rel[:k])) for k in ks}
        values["map"] = ap / big_r
        values["map_at_r"] = ap_r / big_r
        values["mrr"] = 1.0 / (rel.index(1) + 1)
        dcg = sum(r / math.log2(rank + 1) for rank, r in enumerate(rel[:ndcg_k], start=1))
        idcg = sum(1 / math.log2(rank + 1) for rank in range(1, min(big_r, ndcg_k) + 1))
        values[f"ndcg_at_{ndcg_k}"] = dcg / idcg
        for key, v in values.items():
            per.setdefault(key, []).append(v)
    return {key: float(np.mean(v)) for key, v in per.items()}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_retrieval_matches_slow_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    g_lab = rng.integers(0, 5, 60)
    g = rng.standard_normal((60, 6)) + np.eye(6)[g_lab]
    pick = rng.choice(60, 25, replace=False)  # queries are gallery items: excluded by id
    q, q_lab, q_ids = g[pick], g_lab[pick], pick
    g_ids = np.arange(60)
    ref = slow_retrieval(q, q_lab, q_ids, g, g_lab, g_ids, ks=(1, 3, 10), ndcg_k=5)
    got = retrieval_scores(
        torch.from_numpy(q),
        torch.from_numpy(q_lab),
        torch.from_numpy(g),
        torch.from_numpy(g_lab),
        query_ids=torch.from_numpy(q_ids),
        gallery_ids=torch.from_numpy(g_ids),
        ks=(1, 3, 10),
        ndcg_k=5,
        chunk_size=8,
    )
    for key, value in ref.items():
        assert got[key] == pytest.approx(value, abs=1e-6), key
