"""Training-step speed by memory layout: `train.channels_last` (and `train.compile`,
`train.amp`).

One SimCLR training step (views, encoder + projection head on both views, NT-Xent,
backward, AdamW) of contrastkit's encoders, timed with the weights in the usual layout,
channels-last (`train.channels_last`, the default), with `--compile` channels-last with
the encoder compiled (`train.compile: true` with the default layout), and with `--amp`
channels-last under bf16 autocast (`train.amp: true`; fast where the CPU has AMX). Every
(encoder, layout) runs in a fresh subprocess on `--threads` threads (its peak resident memory
is that process's), the layouts alternate `--repeats` times so that load from elsewhere hits
all alike; the median ms/step counts, and the 2 warm-up steps (where compiling happens) are
timed apart.

    PYTHONPATH=src python benchmarks/layout.py [--steps 8] [--repeats 2] [--compile] [--amp]

Prints a table and writes benchmarks/results/layout.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from rich.table import Table

from contrastkit.atomic import write_json_atomic
from contrastkit.augment.image import ViewAugment
from contrastkit.batches import ImageBatch
from contrastkit.encoders.build import build_encoder, encoder_feature_dim
from contrastkit.encoders.options import ModelConfig
from contrastkit.heads.projection import ProjectionHead
from contrastkit.methods.simclr import SimCLR
from machine import load_average, run_header  # benchmarks/machine.py

RESULTS = Path(__file__).parent / "results" / "layout.json"
CASES: dict[str, dict[str, Any]] = {
    "small_cnn 1x8x8 (digits)": {"model": {"encoder": "small_cnn"}, "shape": (1, 8), "batch": 256},
    "resnet_small 1x28x28 (Fashion)": {
        "model": {"encoder": "resnet_small"}, "shape": (1, 28), "batch": 256,
    },
    "resnet_small 3x64x64": {"model": {"encoder": "resnet_small"}, "shape": (3, 64), "batch": 128},
    "resnet18 cifar stem 3x32x32": {
        "model": {"encoder": "resnet18", "stem": "cifar"}, "shape": (3, 32), "batch": 64,
    },
    "vit_tiny patch 4 3x32x32": {
        "model": {"encoder": "vit_tiny", "patch_size": 4}, "shape": (3, 32), "batch": 64,
    },
}  # fmt: skip


def one(case: str, layout: str, steps: int, threads: int) -> dict[str, Any]:
    """Time `steps` steps (after 2 warm-up steps) of one case in one layout."""
    torch.set_num_threads(threads)
    spec = CASES[case]
    channels, side = spec["shape"]
    model = ModelConfig(**spec["model"])
    torch.manual_seed(0)
    encoder = build_encoder(model, channels, side)
    method = SimCLR(encoder, ProjectionHead(encoder_feature_dim(model), 512, 128), temperature=0.2)
    if layout in ("channels_last", "compiled", "bf16"):
        method.to(memory_format=torch.channels_last)
    if layout == "compiled":
        method.encoder.compile()
    optimizer = torch.optim.AdamW(method.parameters(), lr=1e-3)
    images = torch.randint(0, 256, (spec["batch"], channels, side, side), dtype=torch.uint8)
    batch = ImageBatch(images=images, labels=torch.full((len(images),), -1))
    augment = ViewAugment(crop_scale=(0.3, 1.0), rotation_deg=0, blur_prob=0, noise_std=0)
    gen = torch.Generator().manual_seed(1)
    times, start_all = [], time.perf_counter()
    for i in range(steps + 2):
        start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=layout == "bf16"):
            loss = method.training_loss(batch, augment=augment, generator=gen)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if i == 1:
            warmup_s = time.perf_counter() - start_all
        if i >= 2:
            times.append(time.perf_counter() - start)
    return {
        "warmup_s": warmup_s,
        "ms_per_step": 1000 * statistics.median(times),
        "images_per_s": spec["batch"] / statistics.median(times),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--compile", action="store_true", help="also time train.compile")
    parser.add_argument("--amp", action="store_true", help="also time train.amp (bf16)")
    parser.add_argument("--cases", default=",".join(CASES), help="comma list of case names")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--one", nargs=2, metavar=("CASE", "LAYOUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(*args.one, args.steps, args.threads)))
        return
    layouts = ["usual", "channels_last"] + (["compiled"] if args.compile else [])
    layouts += ["bf16"] if args.amp else []
    console = Console()
    result: dict[str, Any] = {**run_header(args), "cases": {}}
    table = Table(title=f"SimCLR training step by weight layout ({args.threads} threads)")
    for col in ("encoder, images", *[f"{x} ms/step" for x in layouts], "speed-up", "peak MiB"):
        table.add_column(col)
    for case in args.cases.split(","):
        runs: dict[str, list[dict[str, Any]]] = {layout: [] for layout in layouts}
        for _ in range(args.repeats):
            for layout in layouts:
                cmd = [sys.executable, __file__, "--one", case, layout, "--steps",
                       str(args.steps), "--threads", str(args.threads)]  # fmt: skip
                done = subprocess.run(cmd, check=True, capture_output=True, text=True)
                runs[layout].append(json.loads(done.stdout.strip().splitlines()[-1]))
        ms = {k: statistics.median(r["ms_per_step"] for r in v) for k, v in runs.items()}
        speedup = ms["usual"] / ms["channels_last"]
        result["cases"][case] = {"runs": runs, "median_ms": ms, "channels_last_speedup": speedup}
        if args.amp:
            result["cases"][case]["bf16_over_channels_last"] = ms["channels_last"] / ms["bf16"]
        peaks = "/".join(f"{max(r['peak_rss_mib'] for r in v):.0f}" for v in runs.values())
        table.add_row(case, *[f"{ms[x]:.0f}" for x in layouts], f"{speedup:.2f}x", peaks)
        console.print(f"{case}: {ms}")
    result["load_average_after"] = load_average()
    console.print(table)
    write_json_atomic(args.out, result)
    console.print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
