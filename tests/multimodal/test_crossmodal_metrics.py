"""Cross-modal Recall@k / MRR against a slow per-query loop, chance levels against every
permutation of a small ranking, and zero-shot accuracy by hand."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from contrastkit.eval.crossmodal import (
    first_relevant_rank,
    retrieval_metrics,
    zero_shot_accuracy,
)


def slow_metrics(
    q: np.ndarray, c: np.ndarray, q_ids: np.ndarray, c_ids: np.ndarray
) -> dict[str, float]:
    qn = q / np.linalg.norm(q, axis=1, keepdims=True)
    cn = c / np.linalg.norm(c, axis=1, keepdims=True)
    hits = {1: [], 5: [], 10: []}
    rr = []
    for i in range(len(q)):
        ranked = sorted(range(len(c)), key=lambda j: (-float(qn[i] @ cn[j]), j))
        first = next((r + 1 for r, j in enumerate(ranked) if c_ids[j] == q_ids[i]), None)
        for k in hits:
            hits[k].append(first is not None and first <= k)
        rr.append(0.0 if first is None else 1.0 / first)
    out = {f"recall_at_{k}": float(np.mean(v)) for k, v in hits.items()}
    out["mrr"] = float(np.mean(rr))
    return out


def test_retrieval_matches_slow_loop_both_directions() -> None:
    gen = torch.Generator().manual_seed(0)
    x_ids = torch.randint(0, 12, (60,), generator=gen)
    t_ids = torch.arange(12)
    centers = torch.randn(12, 16, generator=gen)
    x = centers[x_ids] + 1.2 * torch.randn(60, 16, generator=gen)
    t = centers + 0.8 * torch.randn(12, 16, generator=gen)
    for q, c, qi, ci in ((x, t, x_ids, t_ids), (t, x, t_ids, x_ids)):
        got = retrieval_metrics(q, c, qi, ci)
        want = slow_metrics(q.numpy(), c.numpy(), qi.numpy(), ci.numpy())
        for key, value in want.items():
            assert got[key] == pytest.approx(value, abs=1e-6), key
        assert got["queries"] == len(q) and got["candidates"] == len(c)
    assert 0 < retrieval_metrics(x, t, x_ids, t_ids)["recall_at_1"] < 1


def test_query_without_relevant_candidate_counts_as_miss() -> None:
    ranks = first_relevant_rank(
        torch.tensor([[0.9, 0.1, 0.5]]), torch.tensor([[False, False, False]])
    )
    assert ranks.tolist() == [4]
    got = retrieval_metrics(torch.eye(2), torch.eye(2), torch.tensor([0, 5]), torch.tensor([0, 1]))
    assert got["recall_at_1"] == 0.5 and got["mrr"] == 0.5


@pytest.mark.parametrize("n_rel", [1, 2, 3])
def test_chance_levels_equal_the_average_over_all_rankings(n_rel: int) -> None:
    c = 6
    c_ids = torch.tensor([0] * n_rel + [1] * (c - n_rel))
    got = retrieval_metrics(torch.ones(1, 2), torch.randn(c, 2), torch.tensor([0]), c_ids)
    recall = {k: [] for k in (1, 5, 10)}
    rr = []
    for perm in itertools.permutations(range(c)):
        first = next(r + 1 for r, j in enumerate(perm) if j < n_rel)
        for k in recall:
            recall[k].append(first <= k)
        rr.append(1.0 / first)
    for k, v in recall.items():
        assert got[f"chance_recall_at_{k}"] == pytest.approx(np.mean(v), abs=1e-12)
    assert got["chance_mrr"] == pytest.approx(np.mean(rr), abs=1e-12)


def test_zero_shot_accuracy_by_hand() -> None:
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.1], [-1.0, 0.0]])
    classes = torch.tensor([[1.0, 0.0], [0.0, 2.0]])  # class 7 along x, class 3 along y
    labels = torch.tensor([7, 3, 3, 7])
    # predictions: 7, 3, 7, 3 (the last is nearest to y by angle: cos 0 vs -1)
    assert zero_shot_accuracy(x, classes, labels, torch.tensor([7, 3])) == 0.5


def test_shape_errors_name_the_shapes() -> None:
    with pytest.raises(ValueError, match=r"\(Q, D\)"):
        retrieval_metrics(torch.ones(3, 2), torch.ones(4, 3), torch.zeros(3), torch.zeros(4))
    with pytest.raises(ValueError, match="ids must be"):
        retrieval_metrics(torch.ones(3, 2), torch.ones(4, 2), torch.zeros(2), torch.zeros(4))
