"""Training from a folder read lazily (a worker decodes each file) gives the same split,
the same pixels and the same losses as training from the decoded folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from contrastkit.augment.image import ViewAugment
from contrastkit.batches import ImageBatch
from contrastkit.data.folder_items import stack_images
from contrastkit.encoders.small_cnn import SmallCNN
from contrastkit.heads.projection import ProjectionHead
from contrastkit.methods.simclr import SimCLR
from contrastkit.modalities.images.sources import lazy_folder_split, load_image_data
from contrastkit.modalities.options import DataConfig
from contrastkit.rundir import LOG
from contrastkit.train.loop import fit
from contrastkit.train.options import TrainConfig

from .images import make_folder


def losses(run_dir: Path, data: object, *, workers: int) -> list[float]:
    torch.manual_seed(0)
    method = SimCLR(
        SmallCNN(in_channels=3, width=4, feature_dim=8), ProjectionHead(8, 8, 4), temperature=0.5
    )
    cfg = TrainConfig(epochs=2, batch_size=8, warmup_epochs=0, log_every=1, workers=workers)
    fit(
        method,
        data,  # type: ignore[arg-type]
        collate=ImageBatch.collate if workers else None,
        augment=ViewAugment(),
        cfg=cfg,
        seed=1,
        run_dir=run_dir,
        device=torch.device("cpu"),
        show_progress=False,
    )
    return [json.loads(line)["loss"] for line in (run_dir / LOG).read_text().splitlines()]


@pytest.mark.slow
def test_lazy_folder_trains_like_the_decoded_one(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "d", ["a", "b", "c"], per_class=8)
    cfg = DataConfig(source="folder", path=str(root), test_fraction=0.25)
    eager = load_image_data(cfg)
    split = lazy_folder_split(cfg)
    assert split is not None
    lazy, lazy_test = split
    assert len(lazy) == len(eager.x_train) == 18 and len(lazy_test) == len(eager.x_test)
    assert torch.equal(stack_images([lazy[i] for i in range(len(lazy))]), eager.x_train)
    assert torch.equal(lazy.labels, eager.y_train)
    assert lazy_folder_split(cfg.model_copy(update={"cache": True})) is None
    expected = losses(
        tmp_path / "eager", ImageBatch(images=eager.x_train, labels=eager.y_train), workers=0
    )
    assert losses(tmp_path / "lazy", lazy, workers=1) == expected
    assert len(expected) == 4
