"""Ranking metrics against ranks worked out by hand."""

from __future__ import annotations

import math

import pytest
import torch

from contrastkit.data.text_split import TextPairs, retrieval_task, split_by_group
from contrastkit.eval.text_retrieval import ranking_metrics, relevance_matrix


def test_ranking_metrics_by_hand() -> None:
    # Corpus on the unit circle at 0, 30, 60, 90 degrees; queries at 0 and 85 degrees.
    angles = torch.tensor([0.0, 30.0, 60.0, 90.0]).deg2rad()
    corpus = torch.stack([angles.cos(), angles.sin()], dim=1)
    q_angles = torch.tensor([0.0, 85.0]).deg2rad()
    queries = 3.0 * torch.stack([q_angles.cos(), q_angles.sin()], dim=1)  # scale is ignored
    # Query 0 ranks 0,1,2,3; relevant {1, 3}: ranks 2 and 4.
    # Query 1 ranks 3,2,1,0; relevant {3}: rank 1.
    relevant = relevance_matrix([[1, 3], [3]], corpus_size=4)
    got = ranking_metrics(queries, corpus, relevant)
    assert got["recall_at_1"] == pytest.approx(0.5)
    assert got["recall_at_5"] == pytest.approx(1.0)
    assert got["mrr"] == pytest.approx((1 / 2 + 1) / 2)
    ap_0 = (1 / 2 + 2 / 4) / 2
    assert got["map"] == pytest.approx((ap_0 + 1.0) / 2)


def test_ranking_metrics_rejects_bad_input() -> None:
    z = torch.randn(3, 4)
    with pytest.raises(ValueError, match=r"relevant must have shape \(3, 3\)"):
        ranking_metrics(z, z, torch.ones(3, 2, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"\(3, 4\), \(3, 5\)"):
        ranking_metrics(z, torch.randn(3, 5), torch.ones(3, 3, dtype=torch.bool))
    with pytest.raises(ValueError, match="at least one relevant"):
        ranking_metrics(z, z, torch.eye(3, dtype=torch.bool).logical_and(torch.tensor(False)))


def test_random_embeddings_give_chance_mrr() -> None:
    gen = torch.Generator().manual_seed(0)
    q, c = torch.randn(2000, 16, generator=gen), torch.randn(10, 16, generator=gen)
    relevant = relevance_matrix([[i % 10] for i in range(2000)], corpus_size=10)
    got = ranking_metrics(q, c, relevant)
    chance = sum(1 / r for r in range(1, 11)) / 10  # rank uniform on 1..10
    assert got["mrr"] == pytest.approx(chance, abs=0.03)
    assert got["recall_at_1"] == pytest.approx(0.1, abs=0.03)
    assert math.isclose(got["recall_at_10"], 1.0)


def test_split_by_group_keeps_groups_whole_and_task_lists_every_match() -> None:
    pairs = TextPairs(
        anchors=[f"def {g}" for g in (0, 0, 1, 2, 2, 2, 3, 4)],
        positives=["w0a", "w0b", "w1", "w2a", "w2b", "w2c", "w3", "w4"],
        negatives=None,
        groups=[0, 0, 1, 2, 2, 2, 3, 4],
    )
    train, test = split_by_group(pairs, test_fraction=0.4, seed=1)
    assert len(train) + len(test) == len(pairs)
    assert set(train.groups).isdisjoint(test.groups)
    assert len(set(test.groups)) == 2
    task = retrieval_task(test, "t")
    for query, rows in zip(task.queries, task.relevant, strict=True):
        group = int(query.split()[1])
        expected = sorted(
            p for p, g in zip(pairs.positives, pairs.groups, strict=True) if g == group
        )
        assert sorted(task.corpus[r] for r in rows) == expected
