"""Anomaly detection from embeddings: the distance to the k nearest normal training items
is the anomaly score; AUROC and average precision say how well it ranks anomalies first.

Scoring new data (what `contrastkit anomaly` does): `knn_outlier_scores` of the new items
against the training embeddings, a threshold from `threshold_at_quantile` over the scores
of held-out *normal* items (so about 1 - q of normal items are flagged), and `auroc` when
labels are known.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from scipy.stats import rankdata
from torch import Tensor

from contrastkit.eval.knn import Metric, class_nearest, nearest_neighbours


def knn_anomaly_score(
    normal: Tensor, queries: Tensor, *, k: int = 5, metric: Metric = "cosine"
) -> Tensor:
    """Mean distance of each query to its k nearest `normal` embeddings (larger = stranger).

    Distance is 1 - cosine similarity (metric="cosine") or Euclidean distance.

    Args:
        normal: Shape: (M, D), embeddings of normal training items.
        queries: Shape: (Q, D).

    Returns:
        Shape: (Q,), float32.
    """
    scores = [
        (-sims).mean(dim=1) for sims, _ in nearest_neighbours(normal, queries, k=k, metric=metric)
    ]
    offset = 1.0 if metric == "cosine" else 0.0
    return torch.cat(scores) + offset


def knn_outlier_scores(
    train_emb: Tensor | np.ndarray,
    query_emb: Tensor | np.ndarray,
    k: int,
    *,
    metric: Metric = "cosine",
) -> np.ndarray:
    """`knn_anomaly_score` for arrays: the mean distance of each query to its k nearest
    training embeddings, 1 - cos (default) or Euclidean; larger = stranger.

    ``score(x) = (1/k) sum_{j in kNN(x)} d(x, t_j)``

    Args:
        train_emb: Shape: (M, D), embeddings of the (normal) training items.
        query_emb: Shape: (Q, D), embeddings of the items to score.
        k: Neighbours, 1 <= k <= M.

    Returns:
        Shape: (Q,), float64.

    Raises:
        ValueError: k out of range or mismatched shapes.
    """
    train, query = torch.as_tensor(np.asarray(train_emb)), torch.as_tensor(np.asarray(query_emb))
    if train.ndim != 2 or query.ndim != 2 or train.shape[1] != query.shape[1]:
        raise ValueError(
            f"train (M, D) and query (Q, D) embeddings must share D, got "
            f"{tuple(train.shape)} and {tuple(query.shape)}"
        )
    if not 1 <= k <= train.shape[0]:
        raise ValueError(f"k must be in [1, {train.shape[0]}] (training items), got {k}")
    if query.shape[0] == 0:
        return np.zeros(0)
    return knn_anomaly_score(train, query, k=k, metric=metric).double().numpy()


def threshold_at_quantile(heldout_normal_scores: np.ndarray, q: float) -> float:
    """The q-quantile of held-out normal items' scores (linear interpolation): flagging
    ``score > threshold`` flags about a fraction 1 - q of normal data (false alarms).

    Args:
        heldout_normal_scores: Shape: (N,), scores of normal items not in the reference set.
        q: In (0, 1), e.g. 0.95 or 0.99.

    Raises:
        ValueError: q outside (0, 1), no scores, or NaN scores.
    """
    scores = np.asarray(heldout_normal_scores, dtype=np.float64)
    if not 0 < q < 1:
        raise ValueError(f"quantile q must be in (0, 1), got {q}")
    if scores.ndim != 1 or scores.size == 0 or not np.isfinite(scores).all():
        raise ValueError(f"need a non-empty (N,) array of finite scores, got shape {scores.shape}")
    return float(np.quantile(scores, q))


def auroc(scores: np.ndarray, is_anomaly: np.ndarray) -> float:
    """Area under the ROC curve = P(score of an anomaly > score of a normal item), ties 1/2
    (the Mann-Whitney U statistic / (n_pos * n_neg)).

    Args:
        scores: Shape: (N,).
        is_anomaly: Shape: (N,), bool, with both classes present.
    """
    pos = np.asarray(is_anomaly, dtype=bool)
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if scores.shape != pos.shape or n_pos == 0 or n_neg == 0:
        raise ValueError(f"need (N,) scores and labels with both classes, got {scores.shape}")
    ranks = rankdata(scores)  # average ranks for ties
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def average_precision(scores: np.ndarray, is_anomaly: np.ndarray) -> float:
    """AP = sum_n (R_n - R_{n-1}) P_n over decreasing score thresholds (tied scores form one
    threshold), as scikit-learn's `average_precision_score`.

    Args:
        scores: Shape: (N,).
        is_anomaly: Shape: (N,), bool, with at least one anomaly.
    """
    pos = np.asarray(is_anomaly, dtype=bool)
    if scores.shape != pos.shape or not pos.any():
        raise ValueError(f"need (N,) scores and labels with an anomaly, got {scores.shape}")
    order = np.argsort(-scores, kind="stable")
    s, p = scores[order], pos[order]
    last_of_tie = np.r_[s[1:] != s[:-1], True]  # thresholds at distinct scores
    tp = np.cumsum(p)[last_of_tie]
    predicted = (np.arange(1, len(s) + 1))[last_of_tie]
    precision = tp / predicted
    recall_gain = np.diff(np.r_[0, tp]) / pos.sum()
    return float((recall_gain * precision).sum())


def class_anomaly_scores(nearest: Tensor, *, k: int, metric: Metric = "cosine") -> Tensor:
    """`knn_anomaly_score` of each query against every class as the normal set: the mean
    distance to the class's k nearest entries (all of them when it has fewer).

    Args:
        nearest: Shape: (q, C, k' >= k), each class's nearest similarities, best first,
            -inf past its entries (`knn.class_nearest`).

    Returns:
        Shape: (q, C); NaN for a class without entries.
    """
    sims = nearest[:, :, :k]
    found = sims > float("-inf")
    distance = (1.0 if metric == "cosine" else 0.0) - sims  # 1 - cos, or the distance
    return torch.where(found, distance, 0.0).sum(dim=2) / found.sum(dim=2)


def one_class_summary(scores: Tensor, test_y: Tensor, classes: list[int], k: int) -> dict[str, Any]:
    """AUROC and AP of each class as the normal one (`scores[:, c]`, every other test item
    an anomaly), and their means: the `anomaly` block of `one_class_anomaly`.

    Args:
        scores: Shape: (M, C), `class_anomaly_scores` of the test items.
        test_y: Shape: (M,).
    """
    scores_np, labels = scores.cpu().double().numpy(), test_y.cpu().numpy()
    aurocs = [auroc(scores_np[:, c], labels != c) for c in classes]
    aps = [average_precision(scores_np[:, c], labels != c) for c in classes]
    return {
        "auroc": float(np.mean(aurocs)),
        "average_precision": float(np.mean(aps)),
        "per_class_auroc": aurocs,
        "per_class_average_precision": aps,
        "k": k,
    }


def anomaly_classes(train_y: Tensor, test_y: Tensor) -> list[int]:
    """The classes in both splits, each normal in turn (at least two)."""
    classes = sorted(set(test_y.tolist()) & set(train_y.tolist()))
    if len(classes) < 2:
        raise ValueError("anomaly detection needs at least two classes in both splits")
    return classes


def one_class_anomaly(
    train_z: Tensor,
    train_y: Tensor,
    test_z: Tensor,
    test_y: Tensor,
    *,
    k: int = 5,
    metric: Metric = "cosine",
) -> dict[str, Any]:
    """Each class in turn is normal (its training items are the reference), every other
    test item an anomaly; AUROC and AP of `knn_anomaly_score`, per class and averaged.

    Args:
        train_z: Shape: (N, D). train_y: Shape: (N,), int64 >= 0.
        test_z: Shape: (M, D). test_y: Shape: (M,).

    Returns:
        `{"auroc", "average_precision" (means over classes), "per_class_auroc",
        "per_class_average_precision", "k"}`.
    """
    classes = anomaly_classes(train_y, test_y)
    chunks = class_nearest(
        train_z, train_y, test_z, num_classes=int(train_y.max()) + 1, k=k, metric=metric
    )
    scores = torch.cat([class_anomaly_scores(nearest, k=k, metric=metric) for nearest in chunks])
    return one_class_summary(scores, test_y, classes, k)
