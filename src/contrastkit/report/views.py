"""What the report's pictures need from a run's model: test-set embeddings of the trained
and of a random-init encoder, labels, class names and (for images) the pixels."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from contrastkit.config import Config, load_config
from contrastkit.data.table_split import TABLE_SOURCES, load_table_data
from contrastkit.data.text_load import TEXT_SOURCES
from contrastkit.encoders.build import build_encoder
from contrastkit.eval.embed import embed_images
from contrastkit.eval.tabular_suite import embed_rows
from contrastkit.run import eval_split, load_run
from contrastkit.run_pairs import PAIR_SOURCES, captions_digits_config
from contrastkit.run_tables import table_encoder
from contrastkit.rundir import CHECKPOINT, CONFIG

NO_MAPS = (*TEXT_SOURCES, *(s for s in PAIR_SOURCES if s != "digits_captions"))
"""Sources without maps yet: text, and pairs other than the digits captions (whose image
tower is mapped on the digits)."""


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


def table_views(cfg: Config, method: nn.Module) -> EmbeddingViews:
    """Embed the test rows with the run's encoder and with a random-init one."""
    table = load_table_data(cfg.data)
    encoder = method.encoder
    assert isinstance(encoder, nn.Module)
    torch.manual_seed(cfg.seed)
    random_encoder = table_encoder(cfg, table)
    return EmbeddingViews(
        trained=embed_rows(encoder, table.num_test, table.cat_test).numpy(),
        random_init=embed_rows(random_encoder, table.num_test, table.cat_test).numpy(),
        labels=table.y_test.numpy(),
        class_names=list(table.class_names),
        images=None,
    )


def run_views(run: Path) -> tuple[EmbeddingViews | None, str]:
    """The views of a run directory, or None and a note saying why there are none."""
    source = load_config(run / CONFIG).data.source
    if source in NO_MAPS:
        return None, (
            f"embedding maps and neighbour grids are drawn for image and table runs; "
            f"data.source {source!r} is neither"
        )
    if not (run / CHECKPOINT).is_file():
        return None, f"{run / CHECKPOINT} not found: no embedding maps or neighbour grids"
    cfg, method = load_run(run)
    if source in TABLE_SOURCES:
        return table_views(cfg, method), ""
    if source == "digits_captions":  # the image tower, on the captions' digits
        cfg = captions_digits_config(cfg)
    return image_views(cfg, method), ""
