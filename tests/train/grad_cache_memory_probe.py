"""Run by test_grad_cache_trainer.py in a fresh process, so that the peak resident memory
is this run's: one GradCache SimCLR step at batch `argv[1]`, chunks of `argv[2]`; prints
the peak RSS in MiB as JSON."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import torch

from contrastkit.augment.image import ViewAugment
from contrastkit.batches import ImageBatch
from contrastkit.config import TrainConfig
from contrastkit.encoders.small_cnn import SmallCNN
from contrastkit.heads.projection import ProjectionHead
from contrastkit.methods.simclr import SimCLR
from contrastkit.train.loop import fit


def main() -> None:
    batch, chunk = int(sys.argv[1]), int(sys.argv[2])
    torch.set_num_threads(1)
    torch.manual_seed(0)
    method = SimCLR(SmallCNN(width=8, feature_dim=64), ProjectionHead(64, 128, 64), temperature=0.2)
    images = torch.randint(0, 256, (batch, 1, 28, 28), dtype=torch.uint8)
    cfg = TrainConfig(
        epochs=1,
        batch_size=batch,
        max_steps=1,
        warmup_epochs=0,
        grad_cache_chunk=chunk,
        keep_freed_memory=False,
    )
    with tempfile.TemporaryDirectory() as run_dir:
        result = fit(
            method,
            ImageBatch(images=images, labels=torch.full((batch,), -1)),
            augment=ViewAugment(crop_scale=(0.6, 1.0), rotation_deg=0, blur_prob=0, noise_std=0),
            cfg=cfg,
            seed=0,
            run_dir=Path(run_dir),
            device=torch.device("cpu"),
            show_progress=False,
        )
    print(json.dumps({"batch": batch, "chunk": chunk, "peak_mib": result.peak_mem_mib}))


if __name__ == "__main__":
    main()
