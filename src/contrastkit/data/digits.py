"""scikit-learn's bundled handwritten digits (1,797 grey 8x8 images, 10 classes)."""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_digits as _sk_load_digits

from contrastkit.data.split import ImageSplit, stratified_split


def load_digits(*, test_fraction: float = 0.3, seed: int = 0) -> ImageSplit:
    """The digits as uint8 images (N, 1, 8, 8), pixel values 0..16 scaled to 0..255.

    The split is stratified by class and fixed by `seed`, so every run, baseline and
    evaluation sees the same train and test images.
    """
    bunch = _sk_load_digits()
    images = np.round(bunch.images * (255.0 / 16.0)).astype(np.uint8)[:, None]  # (N, 1, 8, 8)
    return stratified_split(
        images,
        bunch.target,
        test_fraction=test_fraction,
        seed=seed,
        class_names=[str(c) for c in bunch.target_names],
        name="digits",
    )
