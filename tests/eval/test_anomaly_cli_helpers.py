"""The helpers `contrastkit anomaly` uses: scores for arrays, the quantile threshold."""

from __future__ import annotations

import numpy as np
import pytest

from contrastkit.eval.anomaly import auroc, knn_outlier_scores, threshold_at_quantile


def test_knn_outlier_scores_by_hand() -> None:
    train = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    query = np.array([[2.0, 0.0], [1.0, 1.0]])
    # query 0: cos distances 0, 1, 2 -> k=2 mean 0.5; query 1: 1 - 1/sqrt2 twice -> same
    got = knn_outlier_scores(train, query, 2)
    np.testing.assert_allclose(got, [0.5, 1 - 1 / np.sqrt(2)], atol=1e-6)
    # Euclidean: query 0 distances 1, sqrt5, 3 -> k=1: 1
    np.testing.assert_allclose(knn_outlier_scores(train, query, 1, metric="euclidean"), [1, 1])
    assert got.dtype == np.float64 and knn_outlier_scores(train, query[:0], 1).shape == (0,)


def test_outliers_rank_first() -> None:
    rng = np.random.default_rng(0)
    normal = rng.standard_normal((200, 4)) + 5
    queries = np.vstack([rng.standard_normal((50, 4)) + 5, rng.standard_normal((50, 4)) - 5])
    scores = knn_outlier_scores(normal, queries, 5)
    assert auroc(scores, np.r_[np.zeros(50), np.ones(50)].astype(bool)) == 1.0


def test_threshold_at_quantile() -> None:
    scores = np.arange(101, dtype=float)  # 0..100
    assert threshold_at_quantile(scores, 0.95) == pytest.approx(95.0)
    assert threshold_at_quantile(np.array([1.0, 3.0]), 0.5) == pytest.approx(2.0)
    flagged = (scores > threshold_at_quantile(scores, 0.9)).mean()
    assert flagged == pytest.approx(10 / 101)


@pytest.mark.parametrize("q", [0.0, 1.0, -0.1, 1.5])
def test_bad_quantile(q: float) -> None:
    with pytest.raises(ValueError, match=r"in \(0, 1\)"):
        threshold_at_quantile(np.ones(3), q)


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="finite"):
        threshold_at_quantile(np.array([1.0, np.nan]), 0.5)
    with pytest.raises(ValueError, match=r"k must be in \[1, 3\]"):
        knn_outlier_scores(np.ones((3, 2)), np.ones((1, 2)), 4)
    with pytest.raises(ValueError, match="must share D"):
        knn_outlier_scores(np.ones((3, 2)), np.ones((1, 3)), 1)
