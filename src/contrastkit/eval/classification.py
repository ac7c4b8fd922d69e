"""Classification quality from predicted and true labels: accuracy, precision, recall, F1,
per class and macro-averaged, and the confusion matrix."""

from __future__ import annotations

from typing import Any

import numpy as np
from torch import Tensor


def top1_accuracy(predicted: Tensor, truth: Tensor) -> float:
    """The fraction of `predicted` labels equal to `truth`, in [0, 1] (counted exactly,
    then divided in float64).

    Args:
        predicted: Shape: (N,), int64, on any device.
        truth: Shape: (N,), int64 (moved to `predicted`'s device).

    Raises:
        ValueError: the shapes differ or there is nothing to score.

    Example:
        >>> top1_accuracy(knn_predict(bank, bank_labels, queries, num_classes=10), labels)
    """
    if predicted.ndim != 1 or predicted.shape != truth.shape or len(truth) == 0:
        raise ValueError(
            f"need predicted and true labels of one shape (N,), N >= 1, got "
            f"{tuple(predicted.shape)} and {tuple(truth.shape)}"
        )
    return int((predicted == truth.to(predicted.device)).sum()) / len(truth)


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, *, num_classes: int) -> np.ndarray:
    """Counts C[i, j] of samples of true class i predicted as class j.

    Args:
        y_true: Shape: (N,), ints in [0, num_classes).
        y_pred: Shape: (N,), ints in [0, num_classes).

    Returns:
        Shape: (num_classes, num_classes), int64.
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.ndim != 1 or y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred must both be (N,), got {y_true.shape}, {y_pred.shape}")
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        if y.size and (y.min() < 0 or y.max() >= num_classes):
            raise ValueError(f"{name} must lie in [0, {num_classes}), got [{y.min()}, {y.max()}]")
    flat = y_true.astype(np.int64) * num_classes + y_pred.astype(np.int64)
    return np.bincount(flat, minlength=num_classes**2).reshape(num_classes, num_classes)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, 0 where den == 0 (scikit-learn's zero_division=0)."""
    return np.divide(num, den, out=np.zeros(num.shape, dtype=np.float64), where=den > 0)


def classification_scores(
    y_true: np.ndarray, y_pred: np.ndarray, *, num_classes: int
) -> dict[str, Any]:
    """Accuracy, per-class and macro precision / recall / F1, and the confusion matrix.

    Per class c: precision = TP / (TP + FP), recall = TP / (TP + FN),
    F1 = 2 * precision * recall / (precision + recall), each 0 when its denominator is 0.
    Macro = unweighted mean over the classes that occur in y_true or y_pred (as
    scikit-learn's `average="macro"` without an explicit label list).

    Args:
        y_true: Shape: (N,), ints in [0, num_classes).
        y_pred: Shape: (N,), ints in [0, num_classes).

    Returns:
        `{"accuracy", "precision_macro", "recall_macro", "f1_macro", "per_class":
        {"precision", "recall", "f1", "support"} (lists of num_classes), "confusion"
        (num_classes lists of num_classes counts, rows = true class)}`.
    """
    cm = confusion_matrix(y_true, y_pred, num_classes=num_classes)
    tp = np.diag(cm).astype(np.float64)
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    precision = _ratio(tp, predicted.astype(np.float64))
    recall = _ratio(tp, support.astype(np.float64))
    f1 = _ratio(2 * precision * recall, precision + recall)
    present = (support + predicted) > 0
    total = cm.sum()
    return {
        "accuracy": float(tp.sum() / total) if total else 0.0,
        "precision_macro": float(precision[present].mean()) if present.any() else 0.0,
        "recall_macro": float(recall[present].mean()) if present.any() else 0.0,
        "f1_macro": float(f1[present].mean()) if present.any() else 0.0,
        "per_class": {
            "precision": precision.tolist(),
            "recall": recall.tolist(),
            "f1": f1.tolist(),
            "support": support.tolist(),
        },
        "confusion": cm.tolist(),
    }
