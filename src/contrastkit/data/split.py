"""A labelled train/test split of images held as uint8 tensors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from sklearn.model_selection import train_test_split


@dataclass(frozen=True)
class ImageSplit:
    """Images and labels, split once with a fixed seed.

    Attributes:
        x_train: Shape: (N, C, H, W), uint8.
        y_train: Shape: (N,), int64; -1 where a sample has no label (then class_names is
            empty).
        x_test: Shape: (M, C, H, W), uint8.
        y_test: Shape: (M,), int64.
        class_names: Name of each class index.
        name: What the data is called in `metrics.json`.
        notes: What the reader changed or skipped (resized, converted, bad files).
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    class_names: list[str]
    name: str
    notes: tuple[str, ...] = ()

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


def stratified_split(
    x: np.ndarray,
    y: np.ndarray,
    *,
    test_fraction: float,
    seed: int,
    class_names: list[str],
    name: str,
) -> ImageSplit:
    """Split uint8 images `x` (N, C, H, W) and labels `y` (N,) keeping class proportions."""
    idx_train, idx_test = train_test_split(
        np.arange(len(y)), test_size=test_fraction, random_state=seed, stratify=y
    )
    return ImageSplit(
        x_train=torch.from_numpy(x[idx_train]),
        y_train=torch.from_numpy(y[idx_train].astype(np.int64)),
        x_test=torch.from_numpy(x[idx_test]),
        y_test=torch.from_numpy(y[idx_test].astype(np.int64)),
        class_names=class_names,
        name=name,
    )
