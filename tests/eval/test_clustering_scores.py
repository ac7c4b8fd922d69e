"""k-means NMI / ARI: closed forms on separated blobs and scikit-learn on noisy data."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from contrastkit.eval.clustering import kmeans_assign, kmeans_nmi, kmeans_scores


def test_separated_classes_give_one() -> None:
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 25)
    z = np.eye(8)[labels] + 0.01 * rng.standard_normal((100, 8))
    scores = kmeans_scores(z, labels, num_clusters=4)
    assert scores == {"nmi": pytest.approx(1.0), "ari": pytest.approx(1.0)}


def test_scores_equal_sklearn_on_the_assignment() -> None:
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 3, 90)
    z = np.eye(5)[labels] + 0.7 * rng.standard_normal((90, 5))
    assigned = kmeans_assign(z, num_clusters=3, seed=0)
    scores = kmeans_scores(z, labels, num_clusters=3, seed=0)
    assert scores["nmi"] == pytest.approx(normalized_mutual_info_score(labels, assigned))
    assert scores["ari"] == pytest.approx(adjusted_rand_score(labels, assigned))
    assert kmeans_nmi(z, labels, num_clusters=3, seed=0) == pytest.approx(scores["nmi"])
    assert 0.0 < scores["ari"] < 1.0


def test_too_few_rows() -> None:
    with pytest.raises(ValueError, match="N >= 5"):
        kmeans_assign(np.zeros((3, 2)), num_clusters=5)
