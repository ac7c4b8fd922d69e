"""Leave-last-out, recall@k and NDCG@k by hand; the baselines on a tiny matrix."""

from __future__ import annotations

import math

import numpy as np
import pytest

from contrastkit.eval.recommend import (
    held_out_ranks,
    interaction_matrix,
    leave_last_out,
    most_popular_scores,
    ndcg_at_k,
    recall_at_k,
    recommend_metrics,
    svd_scores,
    top_k_unseen,
)


def test_leave_last_out_by_timestamp_and_by_order() -> None:
    users = np.array([0, 1, 0, 0, 1, 2])
    items = np.array([5, 6, 7, 8, 9, 4])
    times = np.array([3.0, 1.0, 9.0, 2.0, 0.5, 1.0])
    split = leave_last_out(users, items, times, n_users=4)
    # user 0: latest t=9 -> item 7 (row 2); user 1: latest t=1 -> item 6 (row 1);
    # user 2 has one interaction; user 3 none
    assert split.test_item.tolist() == [7, 6, -1, -1]
    assert split.train_rows.tolist() == [0, 3, 4, 5]
    assert split.test_users.tolist() == [0, 1]
    by_order = leave_last_out(users, items, None, n_users=3)
    assert by_order.test_item.tolist() == [8, 9, -1]  # the last rows of users 0 and 1


def test_ties_in_time_go_to_the_later_row() -> None:
    split = leave_last_out(np.array([0, 0]), np.array([1, 2]), np.array([5.0, 5.0]), 1)
    assert split.test_item.tolist() == [2]


def test_ranks_exclude_training_items_and_count_ties_against() -> None:
    scores = np.array([[0.9, 0.8, 0.5, 0.5, 0.1], [0.1, 0.2, 0.3, 0.4, 0.5]])
    train = interaction_matrix(np.array([0, 1]), np.array([0, 4]), 2, 5)
    test_item = np.array([2, 0])
    # user 0: item 0 seen; ahead of item 2 (0.5): item 1 (0.8) and the tie item 3 -> rank 2
    # user 1: item 4 seen; ahead of item 0 (0.1): items 1, 2, 3 -> rank 3
    assert held_out_ranks(scores, train, test_item).tolist() == [2, 3]


def test_recall_and_ndcg_by_hand() -> None:
    ranks = np.array([0, 2, 9, 10])
    assert recall_at_k(ranks, 10) == 0.75
    assert recall_at_k(ranks, 1) == 0.25
    want = (1 / math.log2(2) + 1 / math.log2(4) + 1 / math.log2(11) + 0) / 4
    assert ndcg_at_k(ranks, 10) == pytest.approx(want)
    assert recall_at_k(np.zeros(0, dtype=np.int64), 10) == 0.0


def test_recommend_metrics_in_chunks_equals_whole() -> None:
    rng = np.random.default_rng(0)
    users, items = rng.integers(0, 30, 300), rng.integers(0, 40, 300)
    split = leave_last_out(users, items, None, 30)
    train = interaction_matrix(users[split.train_rows], items[split.train_rows], 30, 40)
    scores = rng.standard_normal((30, 40))
    whole = recommend_metrics(scores, train, split.test_item)
    assert recommend_metrics(scores, train, split.test_item, chunk=7) == whole
    assert set(whole) == {"recall@10", "recall@20", "ndcg@10", "users"}


def test_most_popular_and_svd() -> None:
    users = np.array([0, 0, 1, 1, 2, 2, 2])
    items = np.array([0, 1, 0, 1, 0, 1, 2])
    train = interaction_matrix(users, items, 3, 4)
    np.testing.assert_array_equal(most_popular_scores(train)[1], [3, 3, 1, 0])
    x = train.toarray()
    # rank 2 of a rank-2 matrix reconstructs it exactly
    np.testing.assert_allclose(svd_scores(train, rank=2), x, atol=1e-5)
    with pytest.raises(ValueError, match="rank must be"):
        svd_scores(train, rank=3)


def test_top_k_unseen() -> None:
    scores = np.array([0.5, 0.9, 0.1, 0.9, 0.7])
    items, got = top_k_unseen(scores, np.array([1]), 3)
    assert items.tolist() == [3, 4, 0] and got.tolist() == [0.9, 0.7, 0.5]
    items, _ = top_k_unseen(scores, np.array([0, 1, 2]), 10)
    assert items.tolist() == [3, 4]  # only two unseen
    with pytest.raises(ValueError, match="k >= 1"):
        top_k_unseen(scores, np.array([], dtype=np.int64), 0)
