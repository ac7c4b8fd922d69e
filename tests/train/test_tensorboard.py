"""TensorBoard event files beside log.jsonl: they parse and hold the logged loss series."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from contrastkit.augment.image import ViewAugment
from contrastkit.batches import ImageBatch
from contrastkit.config import TrainConfig
from contrastkit.encoders.small_cnn import SmallCNN
from contrastkit.heads.projection import ProjectionHead
from contrastkit.methods.simclr import SimCLR
from contrastkit.rundir import LOG
from contrastkit.train.loop import fit
from contrastkit.train.tensorboard import EVENTS_DIR, EventLog


def test_event_file_holds_the_logged_loss_series(tmp_path: Path) -> None:
    torch.manual_seed(0)
    images = torch.randint(0, 256, (48, 1, 8, 8), dtype=torch.uint8)
    method = SimCLR(SmallCNN(width=4, feature_dim=16), ProjectionHead(16, 16, 8), temperature=0.5)
    fit(
        method,
        ImageBatch(images=images, labels=torch.full((48,), -1)),
        augment=ViewAugment(),
        cfg=TrainConfig(epochs=2, batch_size=16, warmup_epochs=0, log_every=2),
        seed=0,
        run_dir=tmp_path,
        device=torch.device("cpu"),
        show_progress=False,
    )
    logged = [json.loads(line) for line in (tmp_path / LOG).read_text().splitlines()]
    events = EventAccumulator(str(tmp_path / EVENTS_DIR))
    events.Reload()
    assert {"train/loss", "train/lr", "train/samples_per_s"} <= set(events.Tags()["scalars"])
    loss = events.Scalars("train/loss")
    assert [e.step for e in loss] == [r["step"] for r in logged]
    assert [e.value for e in loss] == [torch.tensor(r["loss"]).float().item() for r in logged]
    lr = events.Scalars("train/lr")
    assert [e.value for e in lr] == [torch.tensor(r["lr"]).float().item() for r in logged]


def test_non_finite_and_non_numbers_are_left_out(tmp_path: Path) -> None:
    with EventLog(tmp_path) as log:
        log.write({"step": 3, "epoch": 0, "loss": float("nan"), "lr": 0.5, "note": "x"})
    events = EventAccumulator(str(tmp_path / EVENTS_DIR))
    events.Reload()
    assert events.Tags()["scalars"] == ["train/lr"]
    assert [(e.step, e.value) for e in events.Scalars("train/lr")] == [(3, 0.5)]
