"""Where a run's images come from: `data.source` and `data.path` to an `ImageSplit`."""

from __future__ import annotations

from contrastkit.data.load import load_image_data, load_image_set
from contrastkit.modalities.options import DataConfig

IMAGE_SOURCES = ("digits", "auto", "folder", "cifar", "arrays")
"""`digits` is bundled; the others read `data.path` (`auto` detects the format)."""


def source_for(cfg: DataConfig, data: str) -> DataConfig:
    """The run's own data for 'train' (and 'digits' on a digits run), else `data` as a path
    read with the run's data options (skip_bad, image_size, cache)."""
    if data == "train" or (data == "digits" and cfg.source == "digits"):
        return cfg
    return cfg.model_copy(update={"source": "auto", "path": data})


__all__ = ["IMAGE_SOURCES", "load_image_data", "load_image_set", "source_for"]
