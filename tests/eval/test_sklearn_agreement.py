"""The torch evaluation against scikit-learn on fixed features: the digits' 64 pixels and
256 random ReLU features of them (an embedding-like representation), split 1,200 / 597;
k-means on overlapping Gaussian blobs.

Tolerances: accuracy within 0.3 points, NMI and ARI within 0.01, ranking metrics (AUROC,
mAP, recall@1) within 1e-6. scikit-learn's logistic regression runs to convergence (tol
1e-8): at its default tol=1e-4 lbfgs stops early where the problem is ill-conditioned (the
digits' pixels at C=1: 98.2% against 97.7% converged, which the torch probe reaches).
k-means is compared where its best of 10 restarts is the same clustering whatever the
seed: on the digits, scikit-learn's own NMI moves by 0.02-0.04 from one random_state to
the next.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits, make_blobs
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    adjusted_rand_score,
    average_precision_score,
    normalized_mutual_info_score,
    roc_auc_score,
)
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler, normalize

from contrastkit.eval.anomaly import one_class_anomaly
from contrastkit.eval.classification import top1_accuracy
from contrastkit.eval.clustering import kmeans_scores
from contrastkit.eval.knn import knn_predict
from contrastkit.eval.linear import fewshot_accuracies, fewshot_indices, linear_probe_predict
from contrastkit.eval.retrieval import leave_one_out_retrieval

ACCURACY_TOLERANCE = 0.003
CLUSTER_TOLERANCE = 0.01


def digits_features(kind: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Train features, train labels, test features, test labels (a fixed seeded split)."""
    x, y = load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(y))
    z = torch.from_numpy(x[order]).float()
    if kind == "random_relu":
        projection = torch.randn(64, 256, generator=torch.Generator().manual_seed(1)) / 8
        z = torch.relu(z @ projection)
    labels = torch.from_numpy(y[order]).long()
    return z[:1200], labels[:1200], z[1200:], labels[1200:]


def linear_probe(
    train_x: torch.Tensor,
    train_y: torch.Tensor,
    test_x: torch.Tensor,
    test_y: torch.Tensor,
    c: float,
) -> float:
    """The linear probe's test accuracy, as the evaluation suite scores it."""
    return top1_accuracy(linear_probe_predict(train_x, train_y, test_x, c=c), test_y)


def sklearn_probe_accuracy(train_x, train_y, test_x, test_y, c: float = 1.0) -> float:
    model = make_pipeline(StandardScaler(), LogisticRegression(C=c, tol=1e-8, max_iter=20_000))
    model.fit(train_x.numpy(), train_y.numpy())
    return float(np.mean(model.predict(test_x.numpy()) == test_y.numpy()))


@pytest.mark.parametrize("kind", ["pixels", "random_relu"])
@pytest.mark.parametrize("c", [1.0, 0.05])
def test_linear_probe_accuracy(kind: str, c: float) -> None:
    data = digits_features(kind)
    ours = linear_probe(*data, c=c)
    assert ours == pytest.approx(sklearn_probe_accuracy(*data, c=c), abs=ACCURACY_TOLERANCE)


def test_binary_probe_accuracy() -> None:
    """Two classes: scikit-learn fits one sigmoid, the torch probe a softmax pair at C / 2."""
    train_x, train_y, test_x, test_y = digits_features("pixels")
    train_rows, test_rows = (train_y == 1) | (train_y == 8), (test_y == 1) | (test_y == 8)
    data = (train_x[train_rows], train_y[train_rows], test_x[test_rows], test_y[test_rows])
    ours = linear_probe(*data, c=0.01)
    assert ours == pytest.approx(sklearn_probe_accuracy(*data, c=0.01), abs=ACCURACY_TOLERANCE)
    assert ours < 1.0  # a problem where the regularisation matters


@pytest.mark.parametrize("kind", ["pixels", "random_relu"])
def test_fewshot_draws_batched_equal_sklearn_per_draw(kind: str) -> None:
    train_x, train_y, test_x, test_y = digits_features(kind)
    subsets = fewshot_indices(train_y.numpy(), per_class=5, draws=4, seed=0)
    ours = fewshot_accuracies(train_x, train_y, test_x, test_y, subsets)
    theirs = [sklearn_probe_accuracy(train_x[s], train_y[s], test_x, test_y) for s in subsets]
    np.testing.assert_allclose(ours, theirs, atol=ACCURACY_TOLERANCE)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_kmeans_nmi_and_ari(seed: int) -> None:
    x, y = make_blobs(
        n_samples=2000,
        n_features=16,
        centers=10,
        cluster_std=3.0,
        center_box=(-5, 5),
        random_state=0,
    )
    ours = kmeans_scores(
        torch.from_numpy(x).float(), torch.from_numpy(y), num_clusters=10, seed=seed
    )
    assigned = KMeans(n_clusters=10, n_init=10, random_state=seed).fit_predict(normalize(x))
    assert 0.8 < ours["nmi"] < 0.95  # overlapping clusters, not a trivial partition
    assert ours["nmi"] == pytest.approx(
        normalized_mutual_info_score(y, assigned), abs=CLUSTER_TOLERANCE
    )
    assert ours["ari"] == pytest.approx(adjusted_rand_score(y, assigned), abs=CLUSTER_TOLERANCE)


def test_knn_accuracy() -> None:
    train_x, train_y, test_x, test_y = digits_features("random_relu")
    ours = knn_predict(train_x, train_y, test_x, num_classes=10, k=20, temperature=0.07)
    ref = KNeighborsClassifier(
        n_neighbors=20,
        metric="cosine",
        algorithm="brute",
        weights=lambda d: np.exp((1.0 - d) / 0.07),
    ).fit(train_x.numpy(), train_y.numpy())
    theirs = np.mean(ref.predict(test_x.numpy()) == test_y.numpy())
    assert top1_accuracy(ours, test_y) == pytest.approx(theirs, abs=ACCURACY_TOLERANCE)


def test_anomaly_auroc_and_ap() -> None:
    train_x, train_y, test_x, test_y = digits_features("random_relu")
    ours = one_class_anomaly(train_x, train_y, test_x, test_y, k=5)
    aurocs, aps = [], []
    for c in range(10):
        normal = NearestNeighbors(n_neighbors=5, metric="cosine", algorithm="brute")
        distances, _ = normal.fit(train_x[train_y == c].numpy()).kneighbors(test_x.numpy())
        is_anomaly = (test_y != c).numpy()
        aurocs.append(roc_auc_score(is_anomaly, distances.mean(axis=1)))
        aps.append(average_precision_score(is_anomaly, distances.mean(axis=1)))
    np.testing.assert_allclose(ours["per_class_auroc"], aurocs, atol=1e-6)
    np.testing.assert_allclose(ours["per_class_average_precision"], aps, atol=1e-6)


def test_retrieval_map_and_recall() -> None:
    _, _, test_x, test_y = digits_features("random_relu")
    ours = leave_one_out_retrieval(test_x, test_y)
    z = F.normalize(test_x, dim=1)
    sims = (z @ z.T).double().numpy()
    aps, hits = [], []
    for i in range(len(test_y)):
        others = np.arange(len(test_y)) != i
        relevant = (test_y[others] == test_y[i]).numpy()
        aps.append(average_precision_score(relevant, sims[i, others]))
        hits.append(relevant[np.argmax(sims[i, others])])
    assert ours["map"] == pytest.approx(np.mean(aps), abs=1e-6)
    assert ours["recall_at_1"] == pytest.approx(np.mean(hits), abs=1e-6)
