"""Stateful methods resume bit for bit: EMA teachers, queues, centers and schedules are
saved in the checkpoint and restored by `resume=True`."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from contrastkit.augment.image import ViewAugment
from contrastkit.batches import ImageBatch
from contrastkit.builders import build_method
from contrastkit.config import load_config
from contrastkit.data.digits import load_digits
from contrastkit.encoders.build import build_encoder
from contrastkit.train.loop import fit

TINY = ["model.width=4", "model.feature_dim=16", "model.proj_hidden_dim=16", "model.proj_dim=8"]


class Stop(Exception):
    pass


def train(name: str, run_dir: Path, *, resume: bool = False, stop_after: int = 0) -> nn.Module:
    cfg = load_config(
        None,
        [f"method.name={name}", *TINY, "train.epochs=3", "train.batch_size=64", "train.lr=0.01"],
    )
    torch.manual_seed(0)
    method = build_method(cfg, lambda: build_encoder(cfg.model, in_channels=1))
    images = load_digits().x_train[:128]

    def on_epoch_end(epoch: int) -> None:
        if epoch == stop_after:
            raise Stop

    fit(
        method,
        ImageBatch(images=images, labels=torch.full((len(images),), -1)),
        augment=ViewAugment(),
        cfg=cfg.train,
        seed=1,
        run_dir=run_dir,
        device=torch.device("cpu"),
        resume=resume,
        show_progress=False,
        on_epoch_end=on_epoch_end,
    )
    return method


@pytest.mark.slow
@pytest.mark.parametrize("name", ["moco_v2", "dino"])
def test_stateful_method_resumes_bit_exact(tmp_path: Path, name: str) -> None:
    full = train(name, tmp_path / "full")
    with pytest.raises(Stop):
        train(name, tmp_path / "cut", stop_after=1)
    resumed = train(name, tmp_path / "cut", resume=True)
    for key, value in full.state_dict().items():
        assert torch.equal(value, resumed.state_dict()[key]), key
