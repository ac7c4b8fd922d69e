"""Retrieval metrics against scikit-learn's ranking metrics and closed forms."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import label_ranking_average_precision_score, ndcg_score

from contrastkit.eval.retrieval import leave_one_out_retrieval, retrieval_scores


def _query_gallery(seed: int) -> tuple[torch.Tensor, ...]:
    gen = torch.Generator().manual_seed(seed)
    q_lab, g_lab = (
        torch.randint(0, 4, (30,), generator=gen),
        torch.randint(0, 4, (80,), generator=gen),
    )
    q = torch.randn(30, 8, generator=gen) + torch.eye(8)[q_lab]
    g = torch.randn(80, 8, generator=gen) + torch.eye(8)[g_lab]
    return q, q_lab, g, g_lab


@pytest.mark.parametrize("chunk_size", [4, 256])
def test_map_and_ndcg_match_sklearn(chunk_size: int) -> None:
    q, q_lab, g, g_lab = _query_gallery(0)
    out = retrieval_scores(q, q_lab, g, g_lab, ndcg_k=7, chunk_size=chunk_size)
    sims = (torch.nn.functional.normalize(q) @ torch.nn.functional.normalize(g).T).numpy()
    relevant = (q_lab[:, None] == g_lab[None, :]).numpy()
    has = relevant.any(axis=1)
    assert out["num_queries"] == int(has.sum())
    # with binary relevance, LRAP is the mean AP over queries
    ap = label_ranking_average_precision_score(relevant[has], sims[has])
    assert out["map"] == pytest.approx(ap)
    assert out["ndcg_at_7"] == pytest.approx(ndcg_score(relevant[has], sims[has], k=7))


def test_euclidean_ranks_by_distance() -> None:
    q, q_lab, g, g_lab = _query_gallery(1)
    out = retrieval_scores(q, q_lab, g, g_lab, metric="euclidean", ks=(1,))
    nearest = torch.cdist(q, g).argmin(dim=1)
    assert out["recall_at_1"] == pytest.approx(float((g_lab[nearest] == q_lab).float().mean()))


def test_leave_one_out_excludes_the_query_itself() -> None:
    labels = torch.tensor([0, 0, 1, 1])
    z = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.1], [0.1, 1.0]])
    out = leave_one_out_retrieval(z, labels, ks=(1, 2), ndcg_k=2)
    # items 0 and 1 find their same-label item at rank 3, items 2 and 3 at rank 2
    # (without the exclusion each would find itself at rank 1)
    assert out["recall_at_1"] == 0.0
    assert out["mrr"] == pytest.approx((1 / 3 + 1 / 3 + 1 / 2 + 1 / 2) / 4)
    assert out["recall_at_2"] == 0.5
    assert out["map_at_r"] == 0.0  # R = 1 and the first item is wrong
    assert out["map"] == pytest.approx(out["mrr"])  # R = 1: AP = 1 / rank
    assert out["ndcg_at_2"] == pytest.approx(0.5 / np.log2(3))


def test_perfect_ranking_scores_one() -> None:
    labels = torch.arange(3).repeat_interleave(4)
    z = torch.eye(3)[labels] + 0.01 * torch.randn(12, 3, generator=torch.Generator().manual_seed(0))
    out = leave_one_out_retrieval(z, labels)
    for key in ("recall_at_1", "map", "map_at_r", "mrr", "ndcg_at_10"):
        assert out[key] == pytest.approx(1.0), key


def test_rejects_mismatched_shapes() -> None:
    q, q_lab, g, g_lab = _query_gallery(0)
    with pytest.raises(ValueError, match="share D"):
        retrieval_scores(q[:, :3], q_lab, g, g_lab)
    with pytest.raises(ValueError, match="labels must be"):
        retrieval_scores(q, g_lab, g, g_lab)
    with pytest.raises(ValueError, match="both query_ids"):
        retrieval_scores(q, q_lab, g, g_lab, query_ids=torch.arange(30))
