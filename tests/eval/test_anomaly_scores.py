"""kNN anomaly scores, AUROC and AP against scikit-learn and a direct computation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import average_precision_score, roc_auc_score

from contrastkit.eval.anomaly import auroc, average_precision, knn_anomaly_score, one_class_anomaly


@pytest.mark.parametrize("seed", [0, 1])
def test_auroc_and_ap_match_sklearn_with_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.random(300) < 0.3
    scores = np.round(rng.standard_normal(300) + y, 1)  # rounding makes ties
    assert auroc(scores, y) == pytest.approx(roc_auc_score(y, scores))
    assert average_precision(scores, y) == pytest.approx(average_precision_score(y, scores))


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_knn_anomaly_score_is_mean_distance_to_k_nearest(metric: str) -> None:
    gen = torch.Generator().manual_seed(0)
    normal, queries = torch.randn(40, 6, generator=gen), torch.randn(9, 6, generator=gen)
    got = knn_anomaly_score(normal, queries, k=4, metric=metric)  # type: ignore[arg-type]
    if metric == "cosine":
        d = 1 - torch.nn.functional.normalize(queries) @ torch.nn.functional.normalize(normal).T
    else:
        d = torch.cdist(queries, normal)
    torch.testing.assert_close(got, d.sort(dim=1).values[:, :4].mean(dim=1))


def test_one_class_anomaly_separated_classes() -> None:
    gen = torch.Generator().manual_seed(0)
    train_y, test_y = torch.arange(3).repeat(20), torch.arange(3).repeat(10)
    train_z = torch.eye(4)[train_y] + 0.05 * torch.randn(60, 4, generator=gen)
    test_z = torch.eye(4)[test_y] + 0.05 * torch.randn(30, 4, generator=gen)
    out = one_class_anomaly(train_z, train_y, test_z, test_y, k=3)
    assert out["auroc"] == pytest.approx(1.0)
    assert out["average_precision"] == pytest.approx(1.0)
    assert len(out["per_class_auroc"]) == 3  # type: ignore[arg-type]


def test_auroc_needs_both_classes() -> None:
    with pytest.raises(ValueError, match="both classes"):
        auroc(np.zeros(3), np.zeros(3, dtype=bool))
