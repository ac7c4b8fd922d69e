"""What the report's pictures need from a run's model: test-set embeddings of the trained
and of a random-init encoder, labels, class names and (for images) the pixels."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from contrastkit.builders import MethodBuilder
from contrastkit.config import Config, load_config
from contrastkit.encoders.build import build_encoder
from contrastkit.eval.embed import embed_images
from contrastkit.run import eval_split, load_run
from contrastkit.rundir import CHECKPOINT, CONFIG

IMAGE_SOURCES = ("digits",)  # data sources that `load_image_data` reads


@dataclass(frozen=True)
class EmbeddingViews:
    """Test-set embeddings for the maps and neighbour grids.

    Attributes:
        trained: Shape: (N, D), the trained encoder's embeddings.
        random_init: Shape: (N, D) or None, the same encoder architecture freshly
            initialised with the run's seed (the "before" picture).
        labels: Shape: (N,) class indices, or None for unlabeled data.
        class_names: Name per class index.
        images: Shape: (N, C, H, W) uint8, or None when the items are not images.
    """

    trained: np.ndarray
    random_init: np.ndarray | None
    labels: np.ndarray | None
    class_names: list[str]
    images: np.ndarray | None


def image_views(cfg: Config, method: nn.Module) -> EmbeddingViews:
    """Embed the test images with the run's encoder and with a random-init one."""
    data = eval_split(cfg)
    encoder = method.encoder
    assert isinstance(encoder, nn.Module)
    torch.manual_seed(cfg.seed)  # the random-init baseline of `eval.suite` uses this seed too
    random_encoder = build_encoder(cfg.model, int(data.x_test.shape[1]))
    labels = data.y_test.numpy()
    return EmbeddingViews(
        trained=embed_images(encoder, data.x_test).numpy(),
        random_init=embed_images(random_encoder, data.x_test).numpy(),
        labels=labels if (labels >= 0).all() else None,
        class_names=list(data.class_names),
        images=data.x_test.numpy(),
    )


def run_views(run: Path, methods: Mapping[str, MethodBuilder]) -> tuple[EmbeddingViews | None, str]:
    """The views of a run directory, or None and a note saying why there are none."""
    source = load_config(run / CONFIG).data.source
    if source not in IMAGE_SOURCES:
        return None, (
            f"embedding maps and neighbour grids are drawn for image runs; data.source "
            f"{source!r} is not one yet"
        )
    if not (run / CHECKPOINT).is_file():
        return None, f"{run / CHECKPOINT} not found: no embedding maps or neighbour grids"
    cfg, method = load_run(run, dict(methods))
    return image_views(cfg, method), ""
