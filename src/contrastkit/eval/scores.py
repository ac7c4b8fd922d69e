"""Every label-based score of one set of embeddings on a fixed train/test split.

This is modality-free: it takes embeddings and labels, so image, text and tabular runs
(and their baselines) are scored by the same code and land under the same keys.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import torch
from torch import Tensor

from contrastkit.eval.anomaly import class_anomaly_scores, one_class_summary
from contrastkit.eval.classification import classification_scores
from contrastkit.eval.clustering import kmeans_scores
from contrastkit.eval.knn import class_nearest, knn_vote
from contrastkit.eval.linear import fewshot_linear_probe, linear_probe_predict
from contrastkit.eval.options import EvalConfig
from contrastkit.eval.retrieval import leave_one_out_retrieval


def neighbour_scores(
    train_z: Tensor, train_y: Tensor, test_z: Tensor, *, num_classes: int, cfg: EvalConfig
) -> tuple[Tensor, Tensor]:
    """The kNN predictions (M,) and the one-class anomaly scores (M, C) of the test items,
    from one pass over their similarities to the training items (`knn.class_nearest`)."""
    knn_k = min(cfg.knn_k, train_z.shape[0])
    chunks = class_nearest(
        train_z, train_y, test_z, num_classes=num_classes, k=max(knn_k, cfg.anomaly_k),
        metric=cfg.knn_metric,
    )  # fmt: skip
    preds, scores = [], []
    for nearest in chunks:
        preds.append(knn_vote(nearest, k=knn_k, temperature=cfg.knn_temperature))
        scores.append(class_anomaly_scores(nearest, k=cfg.anomaly_k, metric=cfg.knn_metric))
    return torch.cat(preds), torch.cat(scores)


class LabelledSplit(Protocol):
    """What `embedding_scores` reads of a train/test split (`ImageSplit`, `TableSplit`)."""

    @property
    def y_train(self) -> Tensor: ...

    @property
    def y_test(self) -> Tensor: ...

    @property
    def num_classes(self) -> int: ...


def embedding_scores(
    split: LabelledSplit,
    train_z: Tensor,
    test_z: Tensor,
    *,
    cfg: EvalConfig,
    subsets: list[np.ndarray],
    seed: int,
) -> dict[str, Any]:
    """kNN and linear probes (accuracy, precision/recall/F1, confusion), few-label probes on
    `subsets` of the training rows, test-set retrieval, k-means NMI/ARI and one-class
    anomaly detection, all computed on `train_z`'s device.

    Args:
        split: The labels and classes of the items embedded (`ImageSplit`, `TableSplit`).
        train_z: Features of the split's training items. Shape: (N, D), float.
        test_z: Features of its test items. Shape: (M, D).
        subsets: Index arrays into the training rows, one per few-label draw.

    Returns:
        The `eval` block of `metrics.json`: `knn_top1`, `linear_top1`, `fewshot`,
        `retrieval`, `nmi`, `ari`, `classification` ({"knn", "linear"}), `anomaly`. What
        the data cannot measure is left out and named in `skipped`: clustering with fewer
        test items than classes, anomaly detection without two classes in both splits.
    """
    device, num_classes = train_z.device, split.num_classes
    train_y, test_y = split.y_train.to(device), split.y_test.to(device)
    test_z = test_z.to(device)
    knn_pred, anomaly_scores = neighbour_scores(
        train_z, train_y, test_z, num_classes=num_classes, cfg=cfg
    )
    linear_pred = linear_probe_predict(train_z, train_y, test_z)
    truth = test_y.cpu().numpy()
    knn_cls = classification_scores(truth, knn_pred.cpu().numpy(), num_classes=num_classes)
    linear_cls = classification_scores(truth, linear_pred.cpu().numpy(), num_classes=num_classes)
    fewshot = fewshot_linear_probe(train_z, train_y, test_z, test_y, subsets)
    scores: dict[str, Any] = {
        "knn_top1": knn_cls["accuracy"],
        "linear_top1": linear_cls["accuracy"],
        "fewshot": {"labels_per_class": cfg.fewshot_labels_per_class, **fewshot},
        "retrieval": leave_one_out_retrieval(test_z, test_y, metric=cfg.knn_metric),
        "classification": {"knn": knn_cls, "linear": linear_cls},
    }
    skipped = []
    if len(test_z) >= num_classes:
        scores.update(kmeans_scores(test_z, test_y, num_clusters=num_classes, seed=seed))
    else:
        skipped.append(f"clustering: {len(test_z)} test items for {num_classes} classes")
    shared = sorted(set(test_y.tolist()) & set(train_y.tolist()))
    if len(shared) >= 2:
        scores["anomaly"] = one_class_summary(anomaly_scores, test_y, shared, cfg.anomaly_k)
    else:
        skipped.append(f"anomaly: {len(shared)} class(es) in both splits, it needs 2")
    if skipped:
        scores["skipped"] = "; ".join(skipped)
    return scores
