"""Class-disjoint transfer: pre-train on some classes (labels unused), evaluate on others.

The digits protocol pre-trains on 0-4 and probes on 5-9 (`configs/digits_transfer.yaml`):
the encoder has never seen a 5-9 during training, so the probe measures how well the
features transfer to new classes.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from contrastkit.data.split import ImageSplit


def class_mask(labels: torch.Tensor, classes: Sequence[int]) -> torch.Tensor:
    """Shape: (N,) bool, True where `labels` is one of `classes`."""
    return torch.isin(labels, torch.tensor(list(classes), dtype=labels.dtype))


def select_classes(split: ImageSplit, classes: Sequence[int]) -> ImageSplit:
    """The items of `classes` only, relabelled 0..len(classes)-1 in the order given.

    Raises:
        ValueError: a class is out of range or repeated, or fewer than two are given.
    """
    if len(set(classes)) != len(classes) or len(classes) < 2:
        raise ValueError(f"need at least two distinct classes, got {list(classes)}")
    bad = [c for c in classes if not 0 <= c < split.num_classes]
    if bad:
        raise ValueError(f"classes {bad} not in [0, {split.num_classes})")
    relabel = torch.full((split.num_classes,), -1, dtype=torch.int64)
    relabel[torch.tensor(list(classes))] = torch.arange(len(classes))
    keep_train, keep_test = class_mask(split.y_train, classes), class_mask(split.y_test, classes)
    return ImageSplit(
        x_train=split.x_train[keep_train],
        y_train=relabel[split.y_train[keep_train]],
        x_test=split.x_test[keep_test],
        y_test=relabel[split.y_test[keep_test]],
        class_names=[split.class_names[c] for c in classes],
        name=split.name,
    )
