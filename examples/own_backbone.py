"""SimCLR with your own backbone through contrastkit's public Python API (docs/vision.md).

Any `nn.Module` mapping images (B, C, H, W) to features (B, D) works; here a tiny CNN on
scikit-learn's bundled 8x8 digits. Run: `python examples/own_backbone.py [steps]`.
"""

import sys
from pathlib import Path
from tempfile import TemporaryDirectory

import torch
from torch import nn

from contrastkit.augment.image import ViewAugment
from contrastkit.batches import ImageBatch
from contrastkit.data.digits import load_digits
from contrastkit.heads.projection import ProjectionHead
from contrastkit.methods.simclr import SimCLR
from contrastkit.train.loop import fit
from contrastkit.train.options import TrainConfig


def main(steps: int = 200, run_dir: Path | None = None) -> float:
    """Train for `steps` steps; returns the last logged loss."""
    # --- the part to copy: your backbone, SimCLR around it, contrastkit's loop ---
    backbone = nn.Sequential(  # yours: (B, 1, 8, 8) -> (B, 64)
        nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(),
    )  # fmt: skip
    method = SimCLR(backbone, ProjectionHead(64, 128, 32), temperature=0.5)
    data = load_digits()
    batch = ImageBatch(images=data.x_train, labels=data.y_train)
    cfg = TrainConfig(epochs=100, batch_size=256, lr=2e-3, max_steps=steps)
    with TemporaryDirectory() as name:
        tmp = Path(name)
        out = fit(method, batch, augment=ViewAugment(), cfg=cfg, seed=0, run_dir=run_dir or tmp,
                  device=torch.device("cpu"), show_progress=False)  # fmt: skip
    # --- backbone is trained: backbone(images) gives the features ---
    return float(out.final_loss)


if __name__ == "__main__":
    print(f"final loss {main(int(sys.argv[1]) if len(sys.argv) > 1 else 200):.3f}")
