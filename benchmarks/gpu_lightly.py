"""lightly's SimCLR pipeline on one device, for the lightly row of `benchmarks/gpu.py`.

Runs in an interpreter where lightly imports (gpu.py puts lightly's wheels on the path);
imports nothing of contrastkit but its ResNet file, loaded by path (it imports only torch).
lightly's pipeline as its docs write it: PIL images through `SimCLRTransform` in DataLoader
workers, the two views moved to the device, backbone + `SimCLRProjectionHead`,
`NTXentLoss`, AdamW; with bf16 autocast, channels-last and pinned memory as gpu.py's rows.
Synthetic grey 28x28 images (the throughput does not depend on what they show). Prints one
JSON line: images/s over the steps after the warm-up, and the peak memory.

Usage: python gpu_lightly.py --device cuda --batch-size 512 --workers 15 --warmup 10
    --steps 100 [--fp32]
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


def import_torchvision() -> None:
    """torchvision; on a CPU build of torch, its C++ ops are absent and the PyPI wheel
    imports only once their schemas exist (placeholders, never called here)."""
    try:
        import torchvision  # noqa: F401
    except RuntimeError:
        for name in [m for m in sys.modules if m.startswith("torchvision")]:
            del sys.modules[name]
        lib = torch.library.Library("torchvision", "DEF")
        lib.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        lib.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        import_torchvision.lib = lib  # type: ignore[attr-defined]  # keep it registered
        import torchvision  # noqa: F401


import_torchvision()

from lightly.loss import NTXentLoss  # noqa: E402
from lightly.models.modules import SimCLRProjectionHead  # noqa: E402
from lightly.transforms import SimCLRTransform  # noqa: E402
from PIL import Image  # noqa: E402
from torch.utils.data import DataLoader, Dataset  # noqa: E402

RESNET = Path(__file__).resolve().parents[1] / "src" / "contrastkit" / "encoders" / "resnet.py"


class Views(Dataset):  # type: ignore[type-arg]
    """Grey uint8 images -> PIL -> lightly's transform (two views)."""

    def __init__(self, images: np.ndarray, transform: object) -> None:
        self.images, self.transform = images, transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> object:
        return self.transform(Image.fromarray(self.images[i], mode="L"))  # type: ignore[operator]


def resnet18_cifar() -> torch.nn.Module:
    spec = importlib.util.spec_from_file_location("ck_resnet", RESNET)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["ck_resnet"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    net: torch.nn.Module = module.ResNet.from_name("resnet18", stem="cifar", in_channels=1)
    return net


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--device", default="cuda")
    p.add_argument("--batch-size", type=int, default=512)
    p.add_argument("--workers", type=int, default=15)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--fp32", action="store_true")
    args = p.parse_args()
    device = torch.device(args.device)
    torch.manual_seed(0)
    n = args.batch_size * (args.warmup + args.steps)
    images = np.random.default_rng(0).integers(0, 256, (n, 28, 28), dtype=np.uint8)
    # gpu.py's views: crops from 60%, flips, brightness/contrast jitter; grey, no blur
    transform = SimCLRTransform(
        input_size=28, cj_prob=0.8, cj_strength=1.0, cj_bright=0.4, cj_contrast=0.4,
        cj_sat=0.0, cj_hue=0.0, random_gray_scale=0.0, gaussian_blur=0.0,
        min_scale=0.6, hf_prob=0.5, rr_prob=0.0, normalize=None,
    )  # fmt: skip
    backbone = resnet18_cifar().to(device, memory_format=torch.channels_last)
    head = SimCLRProjectionHead(512, 512, 128).to(device)
    criterion = NTXentLoss(temperature=0.1)
    params = [*backbone.parameters(), *head.parameters()]
    optimizer = torch.optim.AdamW(params, lr=1e-3, weight_decay=1e-4)
    loader = DataLoader(
        Views(images, transform), batch_size=args.batch_size, shuffle=True, drop_last=True,
        num_workers=args.workers, persistent_workers=args.workers > 0,
        pin_memory=device.type == "cuda",
    )  # fmt: skip
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    start = 0.0
    for step, (x0, x1) in enumerate(loader):
        if step == args.warmup:
            sync()
            start = time.perf_counter()
        x0 = x0.to(device, non_blocking=True, memory_format=torch.channels_last)
        x1 = x1.to(device, non_blocking=True, memory_format=torch.channels_last)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=not args.fp32):
            loss = criterion(head(backbone(x0)), head(backbone(x1)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    sync()
    seconds = time.perf_counter() - start
    peak = (
        torch.cuda.max_memory_allocated(device) / 2**20
        if device.type == "cuda"
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    )
    print(json.dumps({
        "images_per_s": args.steps * args.batch_size / seconds, "seconds": seconds,
        "steps": args.steps, "batch_size": args.batch_size, "workers": args.workers,
        "peak_mem_mib": peak, "final_loss": loss.item(), "torch": torch.__version__,
        "lightly": __import__("lightly").__version__,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
