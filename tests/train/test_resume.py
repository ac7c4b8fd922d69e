"""A run stopped after epoch 2 and resumed ends with the same weights as an uninterrupted run."""

import json
from pathlib import Path

import pytest
import torch

from contrastkit.augment.image import ViewAugment
from contrastkit.batches import ImageBatch
from contrastkit.config import TrainConfig
from contrastkit.data.digits import load_digits
from contrastkit.encoders.small_cnn import SmallCNN
from contrastkit.heads.projection import ProjectionHead
from contrastkit.methods.simclr import SimCLR
from contrastkit.rundir import CHECKPOINT, LOG
from contrastkit.train.loop import fit


class Stop(Exception):
    pass


def unlabeled(images: torch.Tensor) -> ImageBatch:
    return ImageBatch(images=images, labels=torch.full((len(images),), -1))


def make_method() -> SimCLR:
    torch.manual_seed(0)
    return SimCLR(SmallCNN(width=4, feature_dim=16), ProjectionHead(16, 16, 8), temperature=0.5)


def train(run_dir: Path, *, resume: bool = False, stop_after: int | None = None) -> SimCLR:
    images = unlabeled(load_digits().x_train[:192])
    cfg = TrainConfig(epochs=4, batch_size=64, warmup_epochs=1, lr=1e-2, log_every=1)
    method = make_method()

    def on_epoch_end(epoch: int) -> None:
        if epoch == stop_after:
            raise Stop

    fit(
        method,
        images,
        augment=ViewAugment(),
        cfg=cfg,
        seed=3,
        run_dir=run_dir,
        device=torch.device("cpu"),
        resume=resume,
        show_progress=False,
        on_epoch_end=on_epoch_end,
    )
    return method


def test_resume_is_bit_exact(tmp_path: Path) -> None:
    full = train(tmp_path / "full")
    with pytest.raises(Stop):
        train(tmp_path / "cut", stop_after=2)
    assert torch.load(tmp_path / "cut" / CHECKPOINT, weights_only=False)["epoch"] == 2
    resumed = train(tmp_path / "cut", resume=True)
    for (name, a), (_, b) in zip(
        full.state_dict().items(), resumed.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), name
    full_steps = [json.loads(line) for line in (tmp_path / "full" / LOG).read_text().splitlines()]
    cut_steps = [json.loads(line) for line in (tmp_path / "cut" / LOG).read_text().splitlines()]
    assert [r["step"] for r in cut_steps] == [r["step"] for r in full_steps] == list(range(12))
    assert [r["loss"] for r in cut_steps] == [r["loss"] for r in full_steps]


def test_nan_guard_skips_steps(tmp_path: Path) -> None:
    from contrastkit.errors import UserError

    class NaNMethod(SimCLR):
        def training_loss(self, batch, *, augment, generator=None):  # type: ignore[no-untyped-def]
            return super().training_loss(batch, augment=augment, generator=generator) * float("nan")

    torch.manual_seed(0)
    method = NaNMethod(SmallCNN(width=4, feature_dim=8), ProjectionHead(8, 8, 4), temperature=0.5)
    before = [p.clone() for p in method.parameters()]
    cfg = TrainConfig(epochs=20, batch_size=32, warmup_epochs=0)
    with pytest.raises(UserError, match="not finite"):
        fit(
            method,
            unlabeled(load_digits().x_train[:64]),
            augment=ViewAugment(),
            cfg=cfg,
            seed=0,
            run_dir=tmp_path,
            device=torch.device("cpu"),
            show_progress=False,
        )
    assert all(torch.equal(a, b) for a, b in zip(before, method.parameters(), strict=True))
