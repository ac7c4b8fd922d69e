"""k-means NMI / ARI: closed forms on separated blobs and scikit-learn on noisy data."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from contrastkit.eval.clustering import kmeans_assign, kmeans_nmi, kmeans_scores
from contrastkit.eval.kmeans import kmeans


def test_separated_classes_give_one() -> None:
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 25)
    z = np.eye(8)[labels] + 0.01 * rng.standard_normal((100, 8))
    scores = kmeans_scores(torch.from_numpy(z), torch.from_numpy(labels), num_clusters=4)
    assert scores == {"nmi": pytest.approx(1.0), "ari": pytest.approx(1.0)}


def test_scores_equal_sklearn_on_the_assignment() -> None:
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 3, 90)
    z = torch.from_numpy(np.eye(5)[labels] + 0.7 * rng.standard_normal((90, 5)))
    assigned = kmeans_assign(z, num_clusters=3, seed=0).numpy()
    scores = kmeans_scores(z, torch.from_numpy(labels), num_clusters=3, seed=0)
    assert scores["nmi"] == pytest.approx(normalized_mutual_info_score(labels, assigned))
    assert scores["ari"] == pytest.approx(adjusted_rand_score(labels, assigned))
    nmi = kmeans_nmi(z, torch.from_numpy(labels), num_clusters=3, seed=0)
    assert nmi == pytest.approx(scores["nmi"])
    assert 0.0 < scores["ari"] < 1.0


def test_too_few_rows() -> None:
    with pytest.raises(ValueError, match="N >= 5"):
        kmeans_assign(torch.zeros(3, 2), num_clusters=5)


def test_kmeans_is_deterministic_under_a_seed() -> None:
    z = torch.randn(300, 6, generator=torch.Generator().manual_seed(0))
    a = kmeans(z, num_clusters=5, seed=3)
    assert torch.equal(a, kmeans(z, num_clusters=5, seed=3))
    assert torch.equal(a, kmeans(z.double(), num_clusters=5, seed=3))  # same random draws


def test_fewer_distinct_points_than_clusters() -> None:
    """Three distinct points, five clusters: empty clusters are refilled, labels stay in
    range and the three groups are kept apart."""
    z = torch.tensor([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]]).repeat_interleave(4, dim=0)
    labels = kmeans(z, num_clusters=5, seed=0)
    assert labels.min() >= 0 and labels.max() < 5
    groups = [set(labels[i : i + 4].tolist()) for i in (0, 4, 8)]
    assert all(len(g) == 1 for g in groups)
    assert len(set.union(*groups)) == 3
