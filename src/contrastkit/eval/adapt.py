"""Fit the evaluation protocol to the labels a data set really has, with a note for each
change, instead of failing after training.

Small or unbalanced labelled data meets four problems: labels that are not 0..K-1
(relabelled in sorted order), test classes that never occur in training (their test items
cannot be classified: left out), a single class (no classification to score: label metrics
skipped), and classes with fewer training labels than `eval.fewshot_labels_per_class`
(the few-label probes use the smallest class count).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FittedLabels:
    """Labels fitted to the protocol.

    Attributes:
        y_train: Shape: (N,), int64 in [0, num_classes).
        keep_test: Shape: (M,), bool: the test items whose class occurs in training.
        y_test: Shape: (keep_test.sum(),), int64 in [0, num_classes).
        num_classes: Classes seen in training.
        class_index: The original label of each new class index.
        per_class: Labels per class of the few-label probes.
        notes: One line per change made.
        skip: Why label metrics cannot be measured at all, or None.
    """

    y_train: np.ndarray
    keep_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    class_index: np.ndarray
    per_class: int
    notes: tuple[str, ...]
    skip: str | None = None


def fit_labels(y_train: np.ndarray, y_test: np.ndarray, *, per_class: int) -> FittedLabels:
    """Relabel to 0..K-1 over the training classes, drop test items of unseen classes,
    and lower `per_class` to the smallest training class.

    Args:
        y_train: Shape: (N,), integer labels >= 0.
        y_test: Shape: (M,), integer labels >= 0.
        per_class: Labels per class the protocol asks for (`eval.fewshot_labels_per_class`).

    Example:
        >>> f = fit_labels(np.array([3, 3, 7, 7, 7]), np.array([3, 7, 9]), per_class=10)
        >>> f.y_train.tolist(), f.y_test.tolist(), f.per_class
        ([0, 0, 1, 1, 1], [0, 1], 2)
    """
    y_train, y_test = np.asarray(y_train).ravel(), np.asarray(y_test).ravel()
    notes: list[str] = []
    classes = np.unique(y_train)
    keep = np.isin(y_test, classes)
    if not keep.all():
        unseen = np.unique(y_test[~keep])
        notes.append(
            f"{int((~keep).sum())} test items of {len(unseen)} class(es) absent from training "
            f"({', '.join(str(c) for c in unseen[:5])}{', ...' if len(unseen) > 5 else ''}) "
            "left out of the label metrics"
        )
    if not np.array_equal(classes, np.arange(len(classes))):
        shown = ", ".join(str(c) for c in classes[:5]) + (", ..." if len(classes) > 5 else "")
        notes.append(f"labels {shown} relabelled 0..{len(classes) - 1} for evaluation")
    new_train = np.searchsorted(classes, y_train).astype(np.int64)
    new_test = np.searchsorted(classes, y_test[keep]).astype(np.int64)
    skip = None
    if len(classes) < 2:
        skip = f"{len(classes)} class in the training labels: label metrics need 2 or more"
    elif keep.sum() < 2:
        skip = f"{int(keep.sum())} test item(s) of a training class: label metrics need 2 or more"
    counts = np.bincount(new_train, minlength=len(classes)) if len(classes) else np.zeros(1, int)
    smallest = int(counts.min())
    fitted = per_class
    if skip is None and smallest < per_class:
        fitted = smallest
        notes.append(
            f"class {classes[int(counts.argmin())]} has {smallest} training label(s): few-label "
            f"probes use {smallest} per class (eval.fewshot_labels_per_class={per_class})"
        )
    return FittedLabels(
        y_train=new_train,
        keep_test=keep,
        y_test=new_test,
        num_classes=len(classes),
        class_index=classes,
        per_class=fitted,
        notes=tuple(notes),
        skip=skip,
    )
