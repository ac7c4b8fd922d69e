"""The lightly half of `benchmarks/fashion.py`: SimCLR as lightly's docs write it.

Runs under a separate interpreter that has lightly (never contrastkit's venv); it reads the
IDX subset `fashion.py` wrote, trains resnet_small (contrastkit's file, loaded by path: it
imports only torch) with lightly's `SimCLRTransform` sized for 28x28 grey images, a
`DataLoader` with workers, `SimCLRProjectionHead`, `NTXentLoss` and a plain loop, then saves
the encoder's features of the train and test images as .npy for `fashion.py` to score with
contrastkit's kNN, and prints one JSON line (images/s, seconds, peak RSS).

Usage: python fashion_lightly.py --data DIR --out DIR --epochs E --batch-size B --lr LR
    --temperature T --workers W --seed S
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from lightly_side import Views, import_torchvision, load_resnet, simclr_transform

import_torchvision()

from lightly.loss import NTXentLoss  # noqa: E402
from lightly.models.modules import SimCLRProjectionHead  # noqa: E402


def read_idx(path: Path) -> np.ndarray:
    """A plain (ungzipped) ubyte IDX file. Shape: as the header says."""
    raw = path.read_bytes()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--epochs", type=int, required=True)
    p.add_argument("--batch-size", type=int, required=True)
    p.add_argument("--lr", type=float, required=True)
    p.add_argument("--temperature", type=float, required=True)
    p.add_argument("--min-scale", type=float, required=True)
    p.add_argument("--workers", type=int, required=True)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    x_train = read_idx(args.data / "train-images-idx3-ubyte")
    x_test = read_idx(args.data / "t10k-images-idx3-ubyte")

    backbone = load_resnet("resnet_small", in_channels=1)

    # lightly's SimCLR example sized for 28x28 grey, with fashion.py's crop scale and the
    # flip and brightness/contrast jitter of configs/fashion_simclr.yaml
    transform = simclr_transform(min_scale=args.min_scale)
    head = SimCLRProjectionHead(256, 512, 128)
    criterion = NTXentLoss(temperature=args.temperature)
    params = [*backbone.parameters(), *head.parameters()]
    optimizer = torch.optim.AdamW(params, lr=args.lr, weight_decay=1e-4)
    loader = DataLoader(
        Views(x_train, transform), batch_size=args.batch_size, shuffle=True, drop_last=True,
        num_workers=args.workers, persistent_workers=args.workers > 0,
    )  # fmt: skip
    backbone.train(), head.train()
    seen, start = 0, time.perf_counter()
    for _ in range(args.epochs):
        for x0, x1 in loader:
            z0, z1 = head(backbone(x0)), head(backbone(x1))
            loss = criterion(z0, z1)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            seen += len(x0)
    seconds = time.perf_counter() - start

    backbone.eval()
    args.out.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        for name, x in (("train", x_train), ("test", x_test)):
            t = torch.from_numpy(x.copy()).unsqueeze(1).float() / 255.0
            feats = torch.cat([backbone(t[i : i + 512]) for i in range(0, len(t), 512)])
            np.save(args.out / f"{name}_features.npy", feats.numpy())
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({
        "images_per_s": seen / seconds, "train_s": seconds, "epochs": args.epochs,
        "images": len(x_train), "peak_rss_mib": peak_mib, "final_loss": loss.item(),
        "torch": torch.__version__, "lightly": __import__("lightly").__version__,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
