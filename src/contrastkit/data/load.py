"""Turn a `DataConfig` into an `ImageSplit`."""

from __future__ import annotations

from contrastkit.config import DataConfig
from contrastkit.data.digits import load_digits
from contrastkit.data.split import ImageSplit


def load_image_data(cfg: DataConfig) -> ImageSplit:
    """Load the data a config names (the bundled digits by default)."""
    return load_digits(test_fraction=cfg.test_fraction, seed=cfg.split_seed)
