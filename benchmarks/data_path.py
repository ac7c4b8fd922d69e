"""The streaming data path: memory that does not grow with the folder, and feeding speed.

The folder runs go through what `contrastkit train --data FOLDER` does (the image
modality: lazy training items, plus the decoded evaluation sample of at most
`eval.max_items` train and test images each, 5% held out); the in-memory runs decode the
whole folder into one `ImageBatch`.

(a) Memory bound. Folders of generated 64x64 RGB JPEGs (smooth random colour fields with
noise, made here under `build/data_path/`, reused between runs, never committed) of
20,000 and 200,000 images (the 200,000 are hard links to the 20,000, each a file of its
own to the loader); SimCLR (small_cnn) trains `--steps` steps on each through the
lazy folder path (`scan_folder_items` -> `fit` with DataLoader workers), each run in its
own process (small_cnn width 8, batch 128 by default: the data path, not the model, is
measured; a smaller model makes the feeding test stricter). Reported: the training
process's peak resident set (also right after the scan), the largest peak of one
worker, and the peak sampled sum of the proportional set sizes (PSS, shared pages
counted once) of the process and its workers. Goal: the training process's peak
does not grow with N (within 10%) and stays under 2 GiB. The evaluation sample is held at
`EVAL_ITEMS` in both runs (see there).

(b) Feeding. Step time when the loader decodes the JPEGs (workers: `train.workers` auto,
min(4, cores - 1)) against the same images already decoded in memory (`TensorItems`,
no workers), same model, batch and steps, each in its own process, alternated
`--repeats` times, the fastest of each kind compared. Goal: <= 1.15x. Each run also
reports the share of its training time the loop waited for a batch (`data_wait_s`, worker
start-up included): the part of the ratio the data path itself causes. A third kind, in
memory with glibc's default malloc (`train.keep_freed_memory=false`), measures what keeping
freed memory gives (`train/allocator.py`; minor page faults per step are reported).

    nice python benchmarks/data_path.py            # full: 20,000 and 200,000 images, 300 steps
    python benchmarks/data_path.py --quick         # 2,000 images, 20 steps: checks it works

Writes `benchmarks/results/data_path.json` (`data_path_quick.json` with --quick) and prints
a table. Say whether the machine was idle: other processes change both figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from machine import load_average  # benchmarks/machine.py

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
DATA = ROOT / "build" / "data_path"
SIZE = 64
PER_FOLDER = 1000  # images per subfolder of a generated folder (one class each)
DISTINCT = 20_000  # distinct JPEGs; larger folders hard-link them
EVAL_ITEMS = 1000
"""eval.max_items of the memory runs: the evaluation sample (at most this many train and
test images, decoded in memory) is bounded by design, and equal in both runs, so that the
figure is the data path's. At the default 10,000, a 20,000-image folder's 5% test split
(950) is smaller than a 200,000-image folder's (9,500 -> 10,000): 105 MiB more at 64x64."""


def make_folder(n: int) -> Path:
    """A folder of `n` 64x64 JPEGs in subfolders of 1,000 (reused when complete).

    Above `DISTINCT` images the files are hard links to the `DISTINCT`-image folder, in
    turn: every name is its own file to the loader (listed, opened, decoded), and writing
    200,000 JPEGs takes hours on a loaded 2-core machine.
    """
    root = DATA / f"jpeg{SIZE}_{n}"
    done = root / ".complete"
    if done.is_file():
        return root
    sources = sorted(make_folder(DISTINCT).rglob("*.jpg")) if n > DISTINCT else []
    rng = np.random.default_rng(n)
    for i in range(n):
        sub = root / f"c{i // PER_FOLDER:04d}"
        path = sub / f"{i:07d}.jpg"
        if path.is_file():
            continue
        sub.mkdir(parents=True, exist_ok=True)
        if sources:
            os.link(sources[i % len(sources)], path)
            continue
        field = rng.integers(0, 256, (6, 6, 3), dtype=np.uint8)
        img = Image.fromarray(field).resize((SIZE, SIZE), Image.Resampling.BILINEAR)
        noise = rng.integers(-20, 21, (SIZE, SIZE, 3))
        pixels = np.clip(np.asarray(img, dtype=np.int64) + noise, 0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(path, quality=90)
    done.write_text(str(n))
    return root


def _status_kib(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _pss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


class MemorySampler:
    """Samples this process's workers' peak RSS and the PSS of the process + workers."""

    def __init__(self, every_s: float = 0.2) -> None:
        self.every_s = every_s
        self.worker_hwm_kib = 0
        self.workers_seen: set[int] = set()
        self.total_pss_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.wait(self.every_s):
            kids = _children(me)
            self.workers_seen.update(kids)
            for kid in kids:
                self.worker_hwm_kib = max(self.worker_hwm_kib, _status_kib(kid, "VmHWM"))
            total = _pss_kib(me) + sum(_pss_kib(kid) for kid in kids)
            self.total_pss_kib = max(self.total_pss_kib, total)


def child(args: argparse.Namespace) -> None:
    """One training run (in its own process); prints its figures as one JSON line."""
    import torch

    torch.set_num_threads(1)
    from contrastkit.augment.build import build_views
    from contrastkit.batches import ImageBatch
    from contrastkit.builders import build_method
    from contrastkit.config import load_config
    from contrastkit.data.folder import decode_folder, scan_folder
    from contrastkit.data.workers import auto_workers
    from contrastkit.encoders.build import build_encoder
    from contrastkit.methods.registry import method_spec
    from contrastkit.run import resolve
    from contrastkit.train.loop import fit

    overrides = [
        "method.name=simclr",
        "model.encoder=small_cnn",
        f"model.width={args.width}",
        f"train.batch_size={args.batch}",
        f"train.max_steps={args.steps}",
        "train.epochs=1000",
        "train.warmup_epochs=0",
        f"train.log_every={max(args.steps // 5, 1)}",
    ]
    if args.workers is not None:
        overrides.append(f"train.workers={args.workers}")
    overrides += args.set
    if not args.in_memory:  # what `contrastkit train --data FOLDER` does
        overrides += ["data.source=folder", f"data.path={args.folder}", "data.test_fraction=0.05"]
    cfg = load_config(None, overrides)
    t0 = time.perf_counter()
    if args.in_memory:
        decoded = decode_folder(scan_folder(Path(args.folder)))
        data: Any = ImageBatch(images=decoded.images, labels=decoded.labels)
        collate, make_encoder = None, lambda: build_encoder(cfg.model, 3)
        views = build_views(cfg.augment, image_size=(SIZE, SIZE))
    else:  # the image modality: lazy training items, a decoded evaluation sample
        modality = resolve(cfg)
        training = modality.training(method_spec("simclr"), lambda _m: None)
        data, collate, views = training.items, training.collate, training.views
        make_encoder = modality.new_encoder
    scan_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    prepare_s = time.perf_counter() - t0
    torch.manual_seed(0)
    method = build_method(cfg, make_encoder)

    workers = auto_workers(cfg.train.workers, in_memory=args.in_memory)
    with tempfile.TemporaryDirectory() as run_dir, MemorySampler() as sampler:
        result = fit(
            method,
            data,
            collate=collate,
            augment=views,
            cfg=cfg.train,
            seed=0,
            run_dir=Path(run_dir),
            device=torch.device("cpu"),
            show_progress=False,
        )
    print(
        json.dumps(
            {
                "images": len(data),
                "in_memory": args.in_memory,
                "workers": workers,
                "steps": args.steps,
                "batch": args.batch,
                "prepare_s": prepare_s,
                "train_s": result.train_time_s,
                "step_s": result.train_time_s / args.steps,
                "data_wait_s": result.data_wait_s,
                "minor_faults": resource.getrusage(resource.RUSAGE_SELF).ru_minflt,
                "final_loss": result.final_loss,
                "peak_rss_after_scan_mib": scan_rss_mib,
                "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "worker_peak_rss_mib": sampler.worker_hwm_kib / 1024,
                "workers_seen": len(sampler.workers_seen),
                "peak_total_pss_mib": sampler.total_pss_kib / 1024,
            }
        )
    )


def run_child(
    folder: Path,
    *,
    steps: int,
    batch: int,
    width: int,
    in_memory: bool,
    workers: int | None,
    sets: tuple[str, ...] = (),
) -> Any:
    cmd = [
        sys.executable, __file__, "--child", "--folder", str(folder),
        "--steps", str(steps), "--batch", str(batch), "--width", str(width),
        *(["--in-memory"] if in_memory else []),
        *(["--workers", str(workers)] if workers is not None else []),
        *(a for s in sets for a in ("--set", s)),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"run failed ({' '.join(cmd)}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 images, 30 steps")
    parser.add_argument("--sizes", type=int, nargs="+", help="folder sizes (memory runs)")
    parser.add_argument("--steps", type=int, help="training steps per run")
    parser.add_argument("--batch", type=int, help="global batch (default 128; quick 64)")
    parser.add_argument("--width", type=int, default=8, help="small_cnn width (default 8)")
    parser.add_argument("--workers", type=int, help="loader workers (default: auto)")
    parser.add_argument("--repeats", type=int, default=2, help="feeding runs of each kind")
    parser.add_argument("--set", action="append", default=[], help="config override (all runs)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--in-memory", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    sizes = args.sizes or ([2_000] if args.quick else [20_000, 200_000])
    steps = args.steps or (20 if args.quick else 300)
    args.batch = args.batch or (64 if args.quick else 128)
    load_before = load_average()
    folders = {}
    for n in sizes:
        t0 = time.perf_counter()
        folders[n] = make_folder(n)
        print(f"folder of {n:,} JPEGs ready in {time.perf_counter() - t0:.0f} s: {folders[n]}")
    memory = []
    for n in sizes:
        row = run_child(
            folders[n],
            steps=steps,
            batch=args.batch,
            width=args.width,
            in_memory=False,
            workers=args.workers,
            sets=(f"eval.max_items={EVAL_ITEMS}", *args.set),
        )
        memory.append(row)
    small = folders[min(sizes)]
    kinds = {  # name -> (in memory, workers, config overrides)
        "loader": (False, args.workers, ()),
        "in_memory": (True, 0, ()),
        "in_memory, malloc default": (True, 0, ("train.keep_freed_memory=false",)),
    }
    runs: dict[str, list[Any]] = {name: [] for name in kinds}
    for _ in range(args.repeats):  # alternated, the fastest of each kept: less noise
        for name, (in_memory, workers, sets) in kinds.items():
            runs[name].append(
                run_child(
                    small,
                    steps=steps,
                    batch=args.batch,
                    width=args.width,
                    in_memory=in_memory,
                    workers=workers,
                    sets=(*sets, *args.set),
                )
            )
    feeding = {name: min(rows, key=lambda row: row["step_s"]) for name, rows in runs.items()}
    ratio = feeding["loader"]["step_s"] / feeding["in_memory"]["step_s"]
    malloc_gain = feeding["in_memory, malloc default"]["step_s"] / feeding["in_memory"]["step_s"]
    peaks = [row["peak_rss_mib"] for row in memory]
    growth = max(peaks) / min(peaks) - 1
    import torch

    result = {
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "torch": torch.__version__,
            "load_average_before": load_before,
            "load_average_after": load_average(),
        },
        "quick": args.quick,
        "model": f"simclr small_cnn width {args.width}",
        "memory": memory,
        "memory_growth": growth,
        "memory_ok": growth <= 0.10 and max(peaks) < 2048,
        "feeding": feeding,
        "feeding_step_s_all": {n: [r["step_s"] for r in rows] for n, rows in runs.items()},
        "feeding_ratio": ratio,
        "feeding_ok": ratio <= 1.15,
        "keep_freed_memory_speedup": malloc_gain,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / ("data_path_quick.json" if args.quick else "data_path.json")
    out.write_text(json.dumps(result, indent=2) + "\n")

    print(
        f"\n(a) memory: SimCLR small_cnn width {args.width}, batch {args.batch}, "
        f"{steps} steps, lazy folder"
    )
    print(
        f"{'images':>9} {'workers':>7} {'after scan':>10} {'peak RSS MiB':>12} "
        f"{'worker RSS':>10} {'PSS sum':>8}"
    )
    for row in memory:
        print(
            f"{row['images']:>9,} {row['workers']:>7} {row['peak_rss_after_scan_mib']:>10.0f} "
            f"{row['peak_rss_mib']:>12.0f} "
            f"{row['worker_peak_rss_mib']:>10.0f} {row['peak_total_pss_mib']:>8.0f}"
        )
    print(f"growth of the training process's peak: {growth:+.1%} (goal <= 10%, < 2 GiB)")
    print(f"\n(b) feeding: {min(sizes):,} images, step time")
    for name, row in feeding.items():
        print(
            f"{name:>26}: {row['step_s'] * 1000:8.1f} ms/step, {row['workers']} worker(s), "
            f"waited for data {row['data_wait_s'] / row['train_s']:.1%} of the time, "
            f"{row['minor_faults'] / row['steps']:,.0f} page faults/step (start-up included)"
        )
    print(f"ratio loader / in memory: {ratio:.3f} (goal <= 1.15)")
    print(f"train.keep_freed_memory: {malloc_gain:.2f}x faster steps (in memory)")
    print(f"load average before {load_before}, after {load_average()}; wrote {out}")


if __name__ == "__main__":
    main()
