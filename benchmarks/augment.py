"""Augmentation throughput: the batched SimCLR pipeline against per-image loops.

SimCLR views (random resized crop, flip, colour jitter, grayscale, Gaussian blur) of a batch
of 256 photo crops at 32x32 and 96x96, on 2 CPU threads, in one run:

- `batched`: `simclr_view(size=S)` on the whole uint8 batch (contrastkit's way).
- `per_image_torch`: the same `ViewAugment`, called on one image at a time.
- `per_image_pil`: a torchvision-style PIL pipeline, one image at a time (what a DataLoader
  worker runs): crop + resize, flip, ImageEnhance brightness/contrast/saturation, hue via
  HSV, grayscale, GaussianBlur, then to a float tensor.

The pipelines are timed in one process, interleaved round by round (best round counts), so
load from other processes hits all of them alike; each pipeline's peak resident memory is
measured in a fresh subprocess making one pass. Prints a table and writes
`benchmarks/results/augment.json`.

    python benchmarks/augment.py [--repeats 5] [--threads 2 1] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

BATCH = 256
SIZES = (32, 96)
PIPELINES = ("batched", "per_image_torch", "per_image_pil")
RESULTS = Path(__file__).parent / "results" / "augment.json"


def photo_crops(size: int, n: int = BATCH, seed: int = 0) -> np.ndarray:
    """`n` uint8 (size, size, 3) crops of scikit-learn's two bundled photos, resized from
    random squares of 1-2x `size` pixels."""
    from PIL import Image
    from sklearn.datasets import load_sample_images

    photos = load_sample_images().images
    rng = np.random.default_rng(seed)
    out = np.empty((n, size, size, 3), np.uint8)
    for i in range(n):
        photo = photos[i % len(photos)]
        side = int(rng.integers(size, 2 * size + 1))
        y = int(rng.integers(0, photo.shape[0] - side))
        x = int(rng.integers(0, photo.shape[1] - side))
        crop = Image.fromarray(photo[y : y + side, x : x + side])
        out[i] = np.asarray(crop.resize((size, size), Image.Resampling.BILINEAR))
    return out


def pil_simclr_view(img, rng: np.random.Generator, size: int):  # type: ignore[no-untyped-def]
    """One SimCLR view of a PIL image, the way torchvision's transforms compute it."""
    import math

    import torch
    from PIL import Image, ImageEnhance, ImageFilter

    w, h = img.size
    for _ in range(10):  # RandomResizedCrop(scale=(0.08, 1), ratio=(3/4, 4/3))
        area = w * h * rng.uniform(0.08, 1.0)
        aspect = math.exp(rng.uniform(math.log(3 / 4), math.log(4 / 3)))
        cw, ch = round(math.sqrt(area * aspect)), round(math.sqrt(area / aspect))
        if 0 < cw <= w and 0 < ch <= h:
            break
    else:
        cw, ch = w, h
    left, top = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
    img = img.resize((size, size), Image.Resampling.BILINEAR, box=(left, top, left + cw, top + ch))
    if rng.random() < 0.5:
        img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    if rng.random() < 0.8:  # ColorJitter(0.4, 0.4, 0.4, 0.1)
        img = ImageEnhance.Brightness(img).enhance(rng.uniform(0.6, 1.4))
        img = ImageEnhance.Contrast(img).enhance(rng.uniform(0.6, 1.4))
        img = ImageEnhance.Color(img).enhance(rng.uniform(0.6, 1.4))
        hsv = np.array(img.convert("HSV"))
        hsv[..., 0] = (hsv[..., 0].astype(np.int16) + int(rng.uniform(-0.1, 0.1) * 255)) % 256
        img = Image.fromarray(hsv, "HSV").convert("RGB")
    if rng.random() < 0.2:
        img = img.convert("L").convert("RGB")
    if rng.random() < 0.5:
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.1, 2.0)))
    return torch.from_numpy(np.asarray(img).transpose(2, 0, 1).copy()).float().div_(255)


def make_pass(pipeline: str, size: int, threads: int) -> tuple[Callable[[], None], int]:
    """A function that makes views of the batch with `pipeline`, and how many images one
    call makes (the per-image torch loop is timed on 32 images: it is slow)."""
    import torch
    from PIL import Image

    from contrastkit.augment.views import simclr_view

    torch.set_num_threads(threads)
    pixels = photo_crops(size)
    batch = torch.from_numpy(pixels.transpose(0, 3, 1, 2).copy())  # (B, 3, S, S) uint8
    aug = simclr_view(size=size)
    gen = torch.Generator().manual_seed(0)
    rng = np.random.default_rng(0)
    pil_images = [Image.fromarray(p) for p in pixels]
    n = 32 if pipeline == "per_image_torch" else BATCH

    def one_pass() -> None:
        if pipeline == "batched":
            aug(batch, gen)
        elif pipeline == "per_image_torch":
            torch.cat([aug(batch[i : i + 1], gen) for i in range(n)])
        else:
            torch.stack([pil_simclr_view(img, rng, size) for img in pil_images])

    return one_pass, n


def high_water_mib() -> float:
    """This process's peak resident memory (VmHWM; unlike ru_maxrss it is not inherited
    from the parent across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_rss_mib(pipeline: str, size: int, threads: int) -> float:
    """Peak resident memory of a fresh process that makes one pass of `pipeline`."""
    cmd = [sys.executable, __file__, "--case", pipeline, str(size), "--threads", str(threads)]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return float(json.loads(done.stdout.strip().splitlines()[-1])["peak_rss_mib"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, nargs="+", default=[2, 1])
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--case", nargs=2, metavar=("PIPELINE", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        one_pass, _ = make_pass(args.case[0], int(args.case[1]), args.threads[0])
        one_pass()
        print(json.dumps({"peak_rss_mib": high_water_mib()}))
        return

    import torch

    start = time.perf_counter()
    rows = []
    for threads, size in [(t, s) for t in args.threads for s in SIZES]:
        passes = {name: make_pass(name, size, threads) for name in PIPELINES}
        for fn, _ in passes.values():
            fn()  # warm-up
        best = dict.fromkeys(PIPELINES, float("inf"))
        for _ in range(args.repeats):  # interleaved, so a busy machine slows every pipeline
            for name, (fn, _) in passes.items():
                t0 = time.perf_counter()
                fn()
                best[name] = min(best[name], time.perf_counter() - t0)
        for name in PIPELINES:
            n = passes[name][1]
            rows.append(
                {
                    "threads": threads,
                    "size": size,
                    "pipeline": name,
                    "images_timed": n,
                    "ms_per_image": 1000 * best[name] / n,
                    "images_per_s": n / best[name],
                    "peak_rss_mib": peak_rss_mib(name, size, threads),
                }
            )
    for row in rows:
        base = {
            r["pipeline"]: r
            for r in rows
            if r["size"] == row["size"] and r["threads"] == row["threads"]
        }
        row["speedup_vs_per_image_torch"] = (
            row["images_per_s"] / base["per_image_torch"]["images_per_s"]
        )
        row["speedup_vs_per_image_pil"] = (
            row["images_per_s"] / base["per_image_pil"]["images_per_s"]
        )

    print(f"SimCLR views, batch {BATCH}, best of {args.repeats} interleaved rounds")
    header = f"{'threads':>7} {'size':>5} {'pipeline':<16} {'images/s':>10} {'ms/image':>9} "
    header += f"{'x torch loop':>12} {'x PIL loop':>10} {'peak RSS MiB':>12}"
    print(header)
    for r in rows:
        print(
            f"{r['threads']:>7} {r['size']:>5} {r['pipeline']:<16} {r['images_per_s']:>10.0f} "
            f"{r['ms_per_image']:>9.3f} {r['speedup_vs_per_image_torch']:>12.2f} "
            f"{r['speedup_vs_per_image_pil']:>10.2f} {r['peak_rss_mib']:>12.0f}"
        )
    total = time.perf_counter() - start
    print(f"total {total:.0f} s")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "benchmark": "augment",
                "batch": BATCH,
                "repeats": args.repeats,
                "views": "simclr_view(size): crop 0.08-1, flip 0.5, jitter 0.4/0.4/0.4/0.1 "
                "p=0.8, grayscale 0.2, blur p=0.5 sigma 0.1-2",
                "torch": torch.__version__,
                "cpu_count": os.cpu_count(),
                "load_avg_1min_at_end": os.getloadavg()[0],
                "total_s": total,
                "rows": rows,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
