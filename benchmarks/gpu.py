"""Training speed on one GPU: contrastkit's whole training step against the model-side step
alone and against lightly, with model FLOP/s as a fraction of the chip's bf16 peak.

Rows (SimCLR, projection head 512-512-128, NT-Xent at temperature 0.1, AdamW, channels-last,
batch `--batch-size`, synthetic images: the speed does not depend on what they show):

- `model step`: encoder + head on two views already in device memory, dense NT-Xent,
  backward, fused AdamW: the reference of what the network alone costs; eager and under
  `torch.compile` (default mode);
- `train step`: `contrastkit.train.loop.fit` as a run trains: uint8 images held in memory,
  batches drawn by the loader, moved to the device, two random views made on the device
  (crops from 60%, flips, brightness/contrast jitter), the step of `train/step.py` (NaN
  guard included); eager, and compiled as `train.compile: true` chooses (CUDA graphs);
- `lightly`: lightly's pipeline (`benchmarks/gpu_lightly.py`: PIL transforms in 15
  DataLoader workers) with the same backbone, head, loss, optimizer, bf16, channels-last;
- `folder`: a 64x64 JPEG folder through the real loader (decoding workers, pinned memory,
  prefetch) against the same images held in device memory, ResNet-18 (stride-2 stem).

Encoders: ResNet-18 with the CIFAR stem at 28x28 (1 channel) and 32x32, ResNet-50
(stride-2 stem) at 64x64, ViT-S/4 at 32x32; bf16 autocast and fp32. Images/s count the
steps after the warm-up (compilation, CUDA-graph recording) on the device's clock. Model
FLOPs per image are counted once per encoder with `torch.utils.flop_counter` (forward and
backward of both views, head and loss); model FLOP/s = FLOPs per image x images/s, shown as
a fraction of the bf16 dense peak: `--peak-tflops`, else 989.4 TFLOP/s for an H100/H200
(NVIDIA's dense bf16 figure for the SXM parts; the sparse figure is twice that).

`--budget-s` runs the rows in order of importance and leaves out (and names) those that
would not fit; the JSON is rewritten after every row, so a run cut short keeps its rows.

    python benchmarks/gpu.py --budget-s 240 --lightly-wheels DIR   # on the GPU machine
    PYTHONPATH=src python benchmarks/gpu.py --device cpu --tiny     # smoke test on a CPU

Prints a table and writes benchmarks/results/gpu.json (`--out`).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from rich.console import Console
from rich.table import Table
from torch import Tensor, nn
from torch.utils.flop_counter import FlopCounterMode

from contrastkit.atomic import write_json_atomic
from contrastkit.augment.image import ViewAugment
from contrastkit.batches import ImageBatch
from contrastkit.encoders.resnet import ResNet
from contrastkit.encoders.vit import ViT
from contrastkit.heads.projection import ProjectionHead
from contrastkit.methods.simclr import SimCLR
from contrastkit.train.callbacks import Callback, LoopState, StepEnd
from contrastkit.train.loop import fit
from contrastkit.train.options import TrainConfig
from machine import run_header

ROOT = Path(__file__).resolve().parents[1]
PEAK_BF16_TFLOPS = {"H200": 989.4, "H100": 989.4, "A100": 312.0}
"""Dense bf16 tensor-core peaks (NVIDIA's data sheets, SXM parts)."""
ISSUE_PEAK_TFLOPS = 790.0
"""The H200 bf16 figure issue 29 states its goal against; the JSON gives both fractions."""

console = Console()
if not console.is_terminal:  # a log or a pipe: rich would assume 80 columns
    console.width = max(console.width, 140)


@dataclass(frozen=True)
class Arch:
    """An encoder and the images it trains on."""

    key: str
    size: int
    channels: int
    feature_dim: int
    build: Callable[[], nn.Module]
    steps: int  # measured steps of a full-size row


def _resnet(name: str, stem: str, channels: int) -> Callable[[], nn.Module]:
    return lambda: ResNet.from_name(name, stem=stem, in_channels=channels)  # type: ignore[arg-type]


def _vit_s4() -> nn.Module:
    return ViT.from_name("vit_small", image_size=32, patch_size=4, in_channels=3)


ARCHS = {
    a.key: a
    for a in (
        Arch("resnet18@28", 28, 1, 512, _resnet("resnet18", "cifar", 1), 150),
        Arch("resnet18@32", 32, 3, 512, _resnet("resnet18", "cifar", 3), 120),
        Arch("resnet50@64", 64, 3, 2048, _resnet("resnet50", "strided", 3), 30),
        Arch("vit_s4@32", 32, 3, 384, _vit_s4, 40),
        Arch("resnet18s@64", 64, 3, 512, _resnet("resnet18", "strided", 3), 60),
    )
}


def views() -> ViewAugment:
    """Crops from 60%, flips, brightness/contrast jitter (configs/fashion_simclr.yaml)."""
    return ViewAugment(
        crop_scale=(0.6, 1.0), rotation_deg=0.0, blur_prob=0.0, noise_std=0.0,
        hflip_prob=0.5, jitter_prob=0.8, brightness=0.4, contrast=0.4,
    )  # fmt: skip


def dense_nt_xent(z_a: Tensor, z_b: Tensor, temperature: float) -> Tensor:
    """NT-Xent over the full (2B, 2B) logit matrix. Shape: (B, P) each."""
    n = z_a.shape[0]
    z = F.normalize(torch.cat([z_a, z_b]).float(), dim=1)  # (2B, P)
    self_pairs = torch.eye(2 * n, dtype=torch.bool, device=z.device)
    logits = (z @ z.T / temperature).masked_fill(self_pairs, float("-inf"))  # (2B, 2B)
    idx = torch.arange(n, device=z.device)
    return F.cross_entropy(logits, torch.cat([idx + n, idx]))


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def peak_mib(device: torch.device) -> float | None:
    return torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None


def reset_peak(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)


def model_side(
    arch: Arch, device: torch.device, batch: int
) -> tuple[nn.Module, Callable[..., Tensor], Tensor]:
    """Encoder + head (channels-last, on `device`), the step's loss, two views in memory."""
    torch.manual_seed(0)
    net = nn.Sequential(arch.build(), ProjectionHead(arch.feature_dim, 512, 128))
    net = net.to(device, memory_format=torch.channels_last)  # type: ignore[call-overload]
    x = torch.rand(2 * batch, arch.channels, arch.size, arch.size, device=device)

    def loss_of(x: Tensor, bf16: bool) -> Tensor:
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            z = net(x)
        return dense_nt_xent(z[:batch], z[batch:], 0.1)

    return net, loss_of, x.contiguous(memory_format=torch.channels_last)


def flops_per_image(arch: Arch, device: torch.device) -> float:
    """Model FLOPs of one image's two views: forward and backward, encoder, head, loss."""
    batch = 8
    _, loss_of, x = model_side(arch, device, batch)
    with FlopCounterMode(display=False) as counter:
        loss_of(x, False).backward()
    return counter.get_total_flops() / batch


def model_step(
    arch: Arch,
    device: torch.device,
    batch: int,
    *,
    bf16: bool,
    compiled: bool,
    warmup: int,
    steps: int,
) -> dict[str, Any]:
    """images/s of the model-side step alone (no loading, no augmentation)."""
    reset_peak(device)
    net, loss_of, x = model_side(arch, device, batch)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, fused=device.type == "cuda" or None)
    fn = torch.compile(loss_of) if compiled else loss_of
    t_start = time.perf_counter()
    for i in range(warmup + steps):
        if i == warmup:
            sync(device)
            warmup_s, start = time.perf_counter() - t_start, time.perf_counter()
        opt.zero_grad(set_to_none=True)
        fn(x, bf16).backward()
        opt.step()
    sync(device)
    rate = steps * batch / (time.perf_counter() - start)
    return {"images_per_s": rate, "peak_mem_mib": peak_mib(device), "warmup_s": warmup_s}


class Throughput(Callback):
    """Wall time (device-synchronised) of the steps after `warmup`."""

    def __init__(self, device: torch.device, *, warmup: int, steps: int) -> None:
        self.device, self.warmup, self.steps = device, warmup, steps
        self.t0 = self.t1 = 0.0

    def on_step_end(self, state: LoopState, event: StepEnd) -> None:
        if event.step in (self.warmup - 1, self.warmup + self.steps - 1):
            sync(self.device)
            now = time.perf_counter()
            self.t0, self.t1 = (now, self.t1) if event.step == self.warmup - 1 else (self.t0, now)

    @property
    def steps_per_s(self) -> float:
        return 0.0 if self.t1 <= self.t0 else self.steps / (self.t1 - self.t0)


def train_step(
    arch: Arch,
    device: torch.device,
    batch: int,
    *,
    bf16: bool,
    compiled: bool,
    warmup: int,
    steps: int,
    data: Any = None,
    collate: Any = None,
) -> dict[str, Any]:
    """images/s of contrastkit's whole training step (`fit`), loading and views included."""
    reset_peak(device)
    if data is None:
        gen = torch.Generator().manual_seed(0)
        shape = (batch * (warmup + steps), arch.channels, arch.size, arch.size)
        images = torch.randint(0, 256, shape, dtype=torch.uint8, generator=gen)
        data = ImageBatch(images=images, labels=torch.full((shape[0],), -1))
    torch.manual_seed(0)
    method = SimCLR(arch.build(), ProjectionHead(arch.feature_dim, 512, 128), temperature=0.1)
    cfg = TrainConfig(
        epochs=1, batch_size=batch, warmup_epochs=0, lr=1e-3, amp=bf16, channels_last=True,
        compile=compiled, log_every=10**6, max_steps=warmup + steps,
    )  # fmt: skip
    meter = Throughput(device, warmup=warmup, steps=steps)
    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory() as run_dir:
        fit(
            method, data, collate=collate, augment=views(), cfg=cfg, seed=0,
            run_dir=Path(run_dir), device=device, show_progress=False, callbacks=[meter],
        )  # fmt: skip
    return {
        "images_per_s": meter.steps_per_s * batch,
        "peak_mem_mib": peak_mib(device),
        "wall_s": time.perf_counter() - t_start,
    }


def lightly_step(
    device: torch.device, batch: int, *, args: argparse.Namespace, warmup: int, steps: int
) -> dict[str, Any]:
    """lightly's pipeline (benchmarks/gpu_lightly.py) in a subprocess with its wheels."""
    site = args.lightly_site
    if site is None and args.lightly_wheels is not None:
        site = Path(tempfile.mkdtemp(prefix="lightly_site_"))
        wheels = sorted(str(w) for w in args.lightly_wheels.glob("*.whl"))
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps",
             "--target", str(site), *wheels],
            check=True,
        )  # fmt: skip
    if site is None:
        return {"skipped": "no --lightly-wheels or --lightly-site"}
    cmd = [
        sys.executable, str(ROOT / "benchmarks" / "gpu_lightly.py"), "--device", str(device),
        "--batch-size", str(batch), "--workers", str(args.lightly_workers),
        "--warmup", str(warmup), "--steps", str(steps),
    ]  # fmt: skip
    env = {**__import__("os").environ, "PYTHONPATH": str(site)}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=args.row_timeout_s)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1:]}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _jpeg(task: tuple[Path, int, int]) -> None:
    """One synthetic photo-like 64x64 JPEG: smooth colour fields plus fine noise."""
    from PIL import Image

    path, seed, size = task
    gen = torch.Generator().manual_seed(seed)
    coarse = torch.rand(1, 3, 4, 4, generator=gen)
    img = F.interpolate(coarse, size=(size, size), mode="bicubic", align_corners=False)[0]
    img = (img + 0.1 * torch.randn(3, size, size, generator=gen)).clamp(0, 1)
    pixels = (img * 255).to(torch.uint8).permute(1, 2, 0).numpy()
    Image.fromarray(pixels).save(path, quality=90)


def folder_rows(
    device: torch.device, batch: int, *, bf16: bool, warmup: int, steps: int
) -> dict[str, Any]:
    """The same 64x64 JPEGs through the loader (decoding workers) and from device memory."""
    from concurrent.futures import ProcessPoolExecutor

    from torch.utils.data import DataLoader

    from contrastkit.data.folder_items import FolderItems

    arch = ARCHS["resnet18s@64"]
    n = batch * (warmup + steps)
    with tempfile.TemporaryDirectory() as tmp:
        paths = [Path(tmp) / f"{i:06d}.jpg" for i in range(n)]
        t0 = time.perf_counter()
        with ProcessPoolExecutor() as pool:
            list(pool.map(_jpeg, [(p, i, 64) for i, p in enumerate(paths)], chunksize=256))
        items = FolderItems(
            [str(p) for p in paths], torch.full((n,), -1), size=(64, 64), channels=3
        )
        written_s = time.perf_counter() - t0
        folder = train_step(
            arch,
            device,
            batch,
            bf16=bf16,
            compiled=False,
            warmup=warmup,
            steps=steps,
            data=items,
            collate=ImageBatch.collate,
        )
        loader = DataLoader(items, batch_size=512, num_workers=4, collate_fn=ImageBatch.collate)
        images = torch.cat([b.images for b in loader])  # decoded once: the same pixels
    in_memory = ImageBatch(images=images.to(device), labels=torch.full((n,), -1, device=device))
    memory = train_step(
        arch, device, batch, bf16=bf16, compiled=False, warmup=warmup, steps=steps, data=in_memory
    )
    return {
        "folder": folder,
        "device_memory": memory,
        "ratio": folder["images_per_s"] / memory["images_per_s"],
        "jpegs": n,
        "write_s": written_s,
    }


@dataclass(frozen=True)
class Row:
    """One measurement: what it runs, on which encoder, and a guess of its seconds."""

    kind: str  # "model step", "train step", "lightly", "folder"
    arch: str
    bf16: bool
    compiled: bool
    batch: int
    est_s: float

    @property
    def name(self) -> str:
        how = "compiled" if self.compiled else "eager"
        return f"{self.kind} {self.arch} {'bf16' if self.bf16 else 'fp32'} {how} b{self.batch}"


def plan(args: argparse.Namespace) -> list[Row]:
    """The rows in order of importance (a budget leaves out the last ones)."""
    b, r18 = args.batch_size, "resnet18@28"
    rows = [
        Row("model step", r18, True, False, b, 8),
        Row("train step", r18, True, False, b, 10),
        Row("lightly", r18, True, False, b, 30),
        Row("model step", r18, True, True, b, 50),
        Row("train step", r18, True, True, b, 70),
        Row("folder", "resnet18s@64", True, False, b, 30),
    ]
    rows += [
        Row("train step", a, True, False, b, 12)
        for a in ("resnet18@32", "resnet50@64", "vit_s4@32")
    ]
    rows += [
        Row("train step", a, False, False, b, 12)
        for a in ("resnet18@28", "resnet18@32", "resnet50@64", "vit_s4@32")
    ]
    rows.append(Row("train step", r18, True, True, 2 * b, 60))
    return rows


def measure(row: Row, device: torch.device, args: argparse.Namespace) -> dict[str, Any]:
    arch = ARCHS[row.arch]
    warmup = 1 if args.tiny else (30 if row.compiled else 10)
    steps = 2 if args.tiny else arch.steps
    kw: dict[str, Any] = {"bf16": row.bf16, "warmup": warmup, "steps": steps}
    if row.kind == "model step":
        return model_step(arch, device, row.batch, compiled=row.compiled, **kw)
    if row.kind == "train step":
        return train_step(arch, device, row.batch, compiled=row.compiled, **kw)
    if row.kind == "lightly":
        return lightly_step(device, row.batch, args=args, warmup=warmup, steps=steps)
    return folder_rows(device, row.batch, **kw)


def with_flops(result: dict[str, Any], flops: float, peak: float | None) -> dict[str, Any]:
    """Model TFLOP/s of a result's images/s, and its fraction of the bf16 peak."""
    rate = result.get("images_per_s")
    if not rate:
        return result
    tflops = rate * flops / 1e12
    result["model_tflops"] = tflops
    if peak is not None:
        result["fraction_of_peak"] = tflops / peak
        result["fraction_of_790"] = tflops / ISSUE_PEAK_TFLOPS
    return result


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The issue's goals, from the rows measured so far."""
    rate = {r["row"]: r.get("images_per_s") for r in rows}

    def ratio(a: str, b: str) -> float | None:
        return rate[a] / rate[b] if rate.get(a) and rate.get(b) else None

    out: dict[str, Any] = {}
    for row in rows:
        if row["kind"] == "folder" and "ratio" in row:
            out["folder_over_device_memory"] = row["ratio"]
    names = {(r["kind"], r["arch"], r["bf16"], r["compiled"], r["batch"]): r["row"] for r in rows}
    b = min(r["batch"] for r in rows)
    key = ("resnet18@28", True)
    train_c, model_c = (
        names.get(("train step", *key, True, b)),
        names.get(("model step", *key, True, b)),
    )
    train_e, model_e = (
        names.get(("train step", *key, False, b)),
        names.get(("model step", *key, False, b)),
    )
    lightly = names.get(("lightly", *key, False, b))
    if train_c and model_c:
        out["train_over_model_compiled"] = ratio(train_c, model_c)
    if train_e and model_e:
        out["train_over_model_eager"] = ratio(train_e, model_e)
    r18 = [
        r
        for r in rows
        if r["kind"] == "train step" and (r["arch"], r["bf16"]) == key and r.get("images_per_s")
    ]
    if r18:
        best = max(r18, key=lambda r: r["images_per_s"])
        out["resnet18@28_bf16_best"] = {
            k: best.get(k) for k in ("row", "images_per_s", "fraction_of_peak", "fraction_of_790")
        }
        if lightly and rate.get(lightly):
            out["best_over_lightly"] = best["images_per_s"] / rate[lightly]
    return out


def table(rows: list[dict[str, Any]]) -> Table:
    t = Table(title="training speed (SimCLR; images/s after warm-up)")
    for col in ("row", "images/s", "peak MiB", "model TFLOP/s", "of bf16 peak", "note"):
        t.add_column(col, justify="left" if col in ("row", "note") else "right")
    for r in rows:
        if r["kind"] == "folder" and "folder" in r:
            for part in ("folder", "device_memory"):
                t.add_row(*_cells(f"{r['row']} ({part})", r[part]))
            continue
        t.add_row(*_cells(r["row"], r))
    return t


def _cells(name: str, r: dict[str, Any]) -> list[str]:
    def num(key: str, fmt: str) -> str:
        return format(r[key], fmt) if isinstance(r.get(key), int | float) else "-"

    note = r.get("skipped") or r.get("error") or ""
    return [
        name,
        num("images_per_s", ",.0f"),
        num("peak_mem_mib", ",.0f"),
        num("model_tflops", ".1f"),
        num("fraction_of_peak", ".1%"),
        str(note)[:60],
    ]


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default=None, help="cuda (default when available) or cpu")
    p.add_argument("--batch-size", type=int, default=512)
    p.add_argument("--budget-s", type=float, default=None, help="leave out rows past this")
    p.add_argument("--quick", action="store_true", help="--budget-s 240")
    p.add_argument("--tiny", action="store_true", help="batch 16, 2 steps a row: a smoke test")
    p.add_argument("--peak-tflops", type=float, default=None, help="the device's bf16 peak")
    p.add_argument("--lightly-wheels", type=Path, default=None, help="folder of lightly's wheels")
    p.add_argument("--lightly-site", type=Path, default=None, help="lightly installed here")
    p.add_argument("--lightly-workers", type=int, default=15)
    p.add_argument("--row-timeout-s", type=float, default=300.0, help="lightly's subprocess")
    p.add_argument("--only", default=None, help="rows whose name holds one of these, a,b,...")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "gpu.json")
    args = p.parse_args()
    if args.quick and args.budget_s is None:
        args.budget_s = 240.0
    if args.tiny:
        args.batch_size, args.lightly_workers = 16, 1
    return args


def main() -> None:
    args = parse()
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    peak = args.peak_tflops or next((v for k, v in PEAK_BF16_TFLOPS.items() if k in name), None)
    out: dict[str, Any] = {**run_header(args), "device": name, "peak_bf16_tflops": peak}
    out.update(rows=[], flops_per_image={}, summary={})
    started = time.perf_counter()
    rows = plan(args)
    if args.only:
        rows = [r for r in rows if any(part in r.name for part in args.only.split(","))]
    for row in rows:
        elapsed = time.perf_counter() - started
        if args.budget_s is not None and elapsed + row.est_s > args.budget_s:
            result: dict[str, Any] = {"skipped": f"budget ({elapsed:.0f} s spent)"}
        else:
            console.print(f"[{elapsed:4.0f} s] {row.name} ...", highlight=False)
            result = run_row(row, device, args, out["flops_per_image"], peak)
        out["rows"].append({"row": row.name, **row.__dict__, **result})
        out["summary"] = summary(out["rows"])
        out["seconds"] = time.perf_counter() - started
        args.out.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(args.out, out)
        console.print(f"        {json.dumps(result, default=str)[:200]}", highlight=False)
    console.print(table(out["rows"]))
    console.print(json.dumps(out["summary"], indent=1))
    console.print(f"wrote {args.out}")


def run_row(
    row: Row,
    device: torch.device,
    args: argparse.Namespace,
    flops: dict[str, float],
    peak: float | None,
) -> dict[str, Any]:
    """One row's result, with its model FLOP/s; an error is recorded, not raised."""
    try:
        result = measure(row, device, args)
        arch = ARCHS[row.arch]
        if row.arch not in flops:
            flops[row.arch] = flops_per_image(arch, device)
        for part in [result, *(result[k] for k in ("folder", "device_memory") if k in result)]:
            with_flops(part, flops[row.arch], peak)
        return result
    except Exception as err:  # one failing row must not cost the others
        return {"error": f"{type(err).__name__}: {err}".splitlines()[0][:300]}


if __name__ == "__main__":
    main()
