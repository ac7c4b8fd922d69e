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
import json
import resource
import time

import numpy as np
import torch
from torch.utils.data import DataLoader

from lightly_side import Views, import_torchvision, load_resnet, simclr_transform

import_torchvision()

from lightly.loss import NTXentLoss  # noqa: E402
from lightly.models.modules import SimCLRProjectionHead  # noqa: E402


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
    transform = simclr_transform(min_scale=0.6)  # gpu.py's views: crops from 60%
    backbone = load_resnet("resnet18", stem="cifar", in_channels=1).to(
        device, memory_format=torch.channels_last
    )
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
