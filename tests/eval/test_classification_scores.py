"""Precision / recall / F1 / confusion matrix against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics

from contrastkit.eval.classification import classification_scores, confusion_matrix


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_scores_match_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 6, 200)
    y_pred = np.where(rng.random(200) < 0.6, y_true, rng.integers(0, 6, 200))
    y_pred[y_pred == 5] = 4  # class 5 never predicted: zero-division path
    s = classification_scores(y_true, y_pred, num_classes=7)  # class 6 absent everywhere
    assert s["accuracy"] == pytest.approx(metrics.accuracy_score(y_true, y_pred))
    for name, fn in (
        ("precision", metrics.precision_score),
        ("recall", metrics.recall_score),
        ("f1", metrics.f1_score),
    ):
        macro = fn(y_true, y_pred, average="macro", zero_division=0)
        assert s[f"{name}_macro"] == pytest.approx(macro)
        per_class = fn(y_true, y_pred, average=None, labels=range(7), zero_division=0)
        np.testing.assert_allclose(s["per_class"][name], per_class)
    np.testing.assert_array_equal(
        s["confusion"], metrics.confusion_matrix(y_true, y_pred, labels=range(7))
    )
    assert s["per_class"]["support"] == np.bincount(y_true, minlength=7).tolist()


def test_perfect_predictions() -> None:
    y = np.array([0, 1, 2, 2, 1])
    s = classification_scores(y, y, num_classes=3)
    assert s["accuracy"] == s["precision_macro"] == s["recall_macro"] == s["f1_macro"] == 1.0
    assert s["confusion"] == [[1, 0, 0], [0, 2, 0], [0, 0, 2]]


def test_confusion_rejects_out_of_range_labels() -> None:
    with pytest.raises(ValueError, match=r"y_pred must lie in \[0, 3\)"):
        confusion_matrix(np.array([0, 1]), np.array([0, 3]), num_classes=3)
    with pytest.raises(ValueError, match="both be"):
        confusion_matrix(np.array([0, 1]), np.array([0]), num_classes=3)
