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
import importlib.util
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
import torch

# The PyPI torchvision for torch 2.13 imports on the CPU build only once these op schemas
# exist (its C++ ops are absent); declare placeholders before importing it (lightly does).
_TV_LIB = torch.library.Library("torchvision", "DEF")
_TV_LIB.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
_TV_LIB.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")

import torchvision  # noqa: E402,F401
from lightly.loss import NTXentLoss  # noqa: E402
from lightly.models.modules import SimCLRProjectionHead  # noqa: E402
from lightly.transforms import SimCLRTransform  # noqa: E402
from PIL import Image  # noqa: E402
from torch.utils.data import DataLoader, Dataset  # noqa: E402

RESNET = Path(__file__).resolve().parents[1] / "src" / "contrastkit" / "encoders" / "resnet.py"


def read_idx(path: Path) -> np.ndarray:
    """A plain (ungzipped) ubyte IDX file. Shape: as the header says."""
    raw = path.read_bytes()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


class Views(Dataset):  # type: ignore[type-arg]
    """PIL grey images -> lightly's transform (two views)."""

    def __init__(self, images: np.ndarray, transform: object) -> None:
        self.images, self.transform = images, transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> object:
        return self.transform(Image.fromarray(self.images[i], mode="L"))  # type: ignore[operator]


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

    spec = importlib.util.spec_from_file_location("ck_resnet", RESNET)
    assert spec is not None and spec.loader is not None
    resnet = importlib.util.module_from_spec(spec)
    sys.modules["ck_resnet"] = resnet  # its dataclasses look their module up
    spec.loader.exec_module(resnet)
    backbone = resnet.ResNet.from_name("resnet_small", in_channels=1)

    # lightly's SimCLR example, sized for 28x28 grey: fashion.py's crop scale, and the flip
    # and brightness/contrast jitter of configs/fashion_simclr.yaml; no saturation, hue,
    # grayscale or blur (grey images), no normalisation.
    transform = SimCLRTransform(
        input_size=28, cj_prob=0.8, cj_strength=1.0, cj_bright=0.4, cj_contrast=0.4,
        cj_sat=0.0, cj_hue=0.0, random_gray_scale=0.0, gaussian_blur=0.0,
        min_scale=args.min_scale, hf_prob=0.5, rr_prob=0.0, normalize=None,
    )  # fmt: skip
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
