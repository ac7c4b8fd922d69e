"""Ctrl-C in `fit` says where the run's checkpoint is, and `train` suggests `--resume` only
when there is one to continue from."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import torch

from contrastkit.augment.image import ViewAugment
from contrastkit.batches import ImageBatch
from contrastkit.cli import interrupted_message
from contrastkit.config import TrainConfig
from contrastkit.data.digits import load_digits
from contrastkit.encoders.small_cnn import SmallCNN
from contrastkit.heads.projection import ProjectionHead
from contrastkit.methods.simclr import SimCLR
from contrastkit.rundir import CHECKPOINT
from contrastkit.train.loop import TrainingInterrupted, fit


class CtrlCAt(SimCLR):
    """SimCLR whose `training_loss` is interrupted at one call."""

    def __init__(self, at_call: int) -> None:
        torch.manual_seed(0)
        super().__init__(SmallCNN(width=4, feature_dim=8), ProjectionHead(8, 8, 4), temperature=0.5)
        self.at_call, self.calls = at_call, 0

    def training_loss(self, batch, *, augment, generator=None):  # type: ignore[no-untyped-def]
        self.calls += 1
        if self.calls == self.at_call:
            raise KeyboardInterrupt
        return super().training_loss(batch, augment=augment, generator=generator)


def interrupt(run_dir: Path, at_call: int) -> TrainingInterrupted:
    images = load_digits().x_train[:128]
    batch = ImageBatch(images=images, labels=torch.full((128,), -1))
    cfg = TrainConfig(epochs=3, batch_size=32, warmup_epochs=0)  # 4 steps an epoch
    with pytest.raises(TrainingInterrupted) as caught:
        fit(
            CtrlCAt(at_call),
            batch,
            augment=ViewAugment(),
            cfg=cfg,
            seed=0,
            run_dir=run_dir,
            device=torch.device("cpu"),
            show_progress=False,
        )
    return caught.value


def test_ctrl_c_before_the_first_checkpoint_has_nothing_to_resume(tmp_path: Path) -> None:
    err = interrupt(tmp_path, at_call=3)
    assert (err.step, err.checkpoint_step, err.first_checkpoint_step) == (2, None, 4)
    assert not (tmp_path / CHECKPOINT).exists()
    message = interrupted_message(err, tmp_path, resume=False, since=time.time())
    assert message == (
        "interrupted at step 2, before the first checkpoint (written after step 4): nothing "
        "to resume yet; run the same command again to start over"
    )


def test_ctrl_c_after_a_checkpoint_says_where_resume_continues(tmp_path: Path) -> None:
    err = interrupt(tmp_path, at_call=7)
    assert (err.step, err.checkpoint_step) == (6, 4)
    message = interrupted_message(err, tmp_path, resume=False, since=time.time())
    assert message == (
        f"interrupted at step 6; continue from step 4 with "
        f"`contrastkit train --resume --out {tmp_path}`"
    )


def test_ctrl_c_outside_training_suggests_resume_only_with_a_checkpoint_of_this_run(
    tmp_path: Path,
) -> None:
    before = time.time() - 10
    nothing = "interrupted before training started: nothing to resume; run the same command again"
    assert interrupted_message(KeyboardInterrupt(), tmp_path, resume=False, since=before) == nothing
    (tmp_path / CHECKPOINT).write_bytes(b"")  # written by this run: training ended, eval did not
    resume = f"interrupted; continue with `contrastkit train --resume --out {tmp_path}`"
    assert interrupted_message(KeyboardInterrupt(), tmp_path, resume=False, since=before) == resume
    later = time.time() + 10  # an older run's checkpoint (--overwrite puts it back)
    assert interrupted_message(KeyboardInterrupt(), tmp_path, resume=False, since=later) == nothing
    assert interrupted_message(KeyboardInterrupt(), tmp_path, resume=True, since=later) == resume
