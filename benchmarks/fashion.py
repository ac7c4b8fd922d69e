"""Fashion-MNIST benchmark: representation quality per method, and SimCLR's training speed
against lightly's pipeline on the same machine, backbone and hyperparameters.

(a) Quality: each recipe configs/fashion_<method>.yaml is trained by contrastkit's CLI on a
seeded subset of the 60,000 training images (`--subset`, 0 = all) for `--epochs` epochs
(or until `--max-steps`; `--epochs 0` skips this part), then evaluated by the run's own
suite on `--test-subset` test images: kNN (cosine, k=20), linear probe, few-label probe (10
per class, 5 draws) and, for the first method (unless `--no-baselines`), the baselines the
suite computes (raw pixels, random-init backbone, the same backbone trained supervised on the
same few labels).
s/epoch and peak memory come from the run's metrics.json. The full protocol (about one hour
of training per method on the 60,000 images on 2 cores):
`--subset 0 --test-subset 0 --epochs 60 --speed-epochs 0`.

(b) Speed: SimCLR, resnet_small, batch 256, AdamW lr 2e-3, temperature 0.1, crops of 20-100%
+ flip + brightness/contrast jitter (p 0.8, strength 0.4), for `--speed-epochs` epochs on
the same subset: contrastkit's CLI against benchmarks/fashion_lightly.py (lightly's
SimCLRTransform, DataLoader with workers, SimCLRProjectionHead, NTXentLoss, a plain loop)
run by `--lightly-python` (a separate venv, by default .venv-lightly in the repository:
python3 -m venv .venv-lightly && .venv-lightly/bin/pip install torch==2.13.0 lightly). The
two alternate `--repeats` times (the machine may be shared); images/s is the median, kNN
(contrastkit's knn_predict, cosine k=20, on the same test images) the last.
lightly's half is skipped, and says so, when that interpreter is absent.

Writes benchmarks/results/fashion.json and prints the tables. Needs the Debian package
dataset-fashion-mnist. Run (reduced, ~30 min on 2 loaded cores):
    PYTHONPATH=src python benchmarks/fashion.py --subset 10000 --test-subset 2000 --epochs 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

from contrastkit.atomic import write_json_atomic
from contrastkit.data.fashion_mnist import read_fashion_mnist
from contrastkit.eval.classification import top1_accuracy
from contrastkit.eval.knn import knn_predict
from machine import load_average, run_header  # benchmarks/machine.py

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "fashion.json"
SPEED = {"epochs": 0, "batch_size": 256, "lr": 0.002, "temperature": 0.1, "min_scale": 0.2}
"""Part (b)'s hyperparameters, given to both pipelines and not read from the recipe, so they
train alike whatever the recipe says (in fp32; crops of min_scale-100% of the area)."""


def write_idx(path: Path, array: np.ndarray) -> None:
    """An uncompressed ubyte IDX file (magic 0x0000 08 ndim, big-endian dims, bytes)."""
    header = bytes([0, 0, 8, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    path.write_bytes(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())


def write_subset(folder: Path, subset: int, test_subset: int, seed: int) -> tuple[int, int]:
    """Seeded subsets of train and test as the four IDX files data.path reads."""
    train, test = read_fashion_mnist()
    gen = torch.Generator().manual_seed(seed)
    parts = []
    for part, n, stem in ((train, subset, "train"), (test, test_subset, "t10k")):
        keep = torch.randperm(len(part.labels), generator=gen)[: n or len(part.labels)]
        keep = keep.sort().values
        write_idx(folder / f"{stem}-images-idx3-ubyte", part.images[keep, 0].numpy())
        write_idx(folder / f"{stem}-labels-idx1-ubyte", part.labels[keep].numpy())
        parts.append(len(keep))
    return parts[0], parts[1]


def ck_train(config: str, out: Path, sets: list[str]) -> tuple[dict[str, Any], float]:
    """Run `contrastkit train` in a subprocess; (metrics.json, wall seconds)."""
    cmd = [sys.executable, "-m", "contrastkit", "train", "--config", config, "--out", str(out)]
    cmd += [a for s in sets for a in ("--set", s)]
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2")}
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    return json.loads((out / "metrics.json").read_text()), wall


def pick(metrics: dict[str, Any], *path: str) -> Any:
    node: Any = metrics
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--methods", default="simclr", help="comma list of simclr,byol,...")
    parser.add_argument("--subset", type=int, default=10000, help="train images (0: all)")
    parser.add_argument("--test-subset", type=int, default=2000, help="test images (0: all)")
    parser.add_argument("--epochs", type=int, default=5, help="0 skips part (a)")
    parser.add_argument("--max-steps", type=int, default=None, help="training-step budget")
    parser.add_argument("--fewshot-draws", type=int, default=5)
    parser.add_argument("--supervised-steps", type=int, default=300)
    parser.add_argument(
        "--baselines", action=argparse.BooleanOptionalAction, default=True,
        help="score raw pixels, random-init and supervised-on-few-labels with the first method",
    )  # fmt: skip
    parser.add_argument("--speed-epochs", type=int, default=2, help="0 skips part (b)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--workers", type=int, default=1, help="lightly's DataLoader workers")
    parser.add_argument(
        "--lightly-python", type=Path, default=ROOT / ".venv-lightly" / "bin" / "python"
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    console = Console()
    result: dict[str, Any] = run_header(args)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        data = tmp / "data"
        data.mkdir()
        n_train, n_test = write_subset(data, args.subset, args.test_subset, args.seed)
        result["images"] = {"train": n_train, "test": n_test}
        console.print(f"Fashion-MNIST subset: {n_train} train / {n_test} test images")
        base = [f"data.path={data}", "health.every=0", "eval.max_items=null",
                f"eval.fewshot_draws={args.fewshot_draws}",
                f"eval.supervised_steps={args.supervised_steps}"]  # fmt: skip
        if args.epochs:
            result["quality"] = quality(args, tmp, base, console)
            write_json_atomic(args.out, result)  # kept if the speed half is interrupted
        if args.speed_epochs:
            result["speed"] = speed(args, tmp, data, base, console)
    result["load_average_after"] = load_average()
    write_json_atomic(args.out, result)
    console.print(f"wrote {args.out}")


def quality(args: argparse.Namespace, tmp: Path, base: list[str], console: Console) -> Any:
    rows: dict[str, Any] = {}
    for i, method in enumerate(args.methods.split(",")):
        first = str(i == 0 and args.baselines).lower()
        sets = [*base, f"train.epochs={args.epochs}", f"eval.baselines={first}"]
        if args.max_steps:
            sets.append(f"train.max_steps={args.max_steps}")
        metrics, wall = ck_train(f"configs/fashion_{method}.yaml", tmp / method, sets)
        rows[method] = {"metrics": metrics, "wall_s": wall}
        console.print(f"{method}: trained and evaluated in {wall:.0f} s")
    table = Table(title="Fashion-MNIST quality (reduced unless --subset 0)")
    for col in ("representation", "kNN", "linear", "few-label", "s/epoch", "peak MiB"):
        table.add_column(col)
    for method, row in rows.items():
        s = summary(row["metrics"])
        row["summary"] = s
        table.add_row(method, *(fmt(s.get(k)) for k in SUMMARY_KEYS))
    first = next(iter(rows.values()))["metrics"]
    for name, s in baselines(first).items():
        table.add_row(name, *(fmt(s.get(k)) for k in SUMMARY_KEYS))
    console.print(table)
    return rows


SUMMARY_KEYS = ("knn", "linear", "fewshot", "s_per_epoch", "peak_mib")


def fmt(v: Any) -> str:
    return "-" if v is None else f"{v:.1f}" if isinstance(v, float) else str(v)


TRAIN_RATE = ("samples_per_s",)


def pct(v: Any) -> float | None:
    """Accuracies as percentages (metrics.json holds fractions in [0, 1])."""
    return None if v is None else 100 * float(v)


def block(b: Any) -> dict[str, Any]:
    return {"knn": pct(pick(b, "knn_top1")), "linear": pct(pick(b, "linear_top1")),
            "fewshot": pct(pick(b, "fewshot", "linear_top1_mean"))}  # fmt: skip


def summary(metrics: dict[str, Any]) -> dict[str, Any]:
    """kNN / linear / few-label %, s/epoch and peak MiB of one run's metrics.json."""
    epochs, train_s = metrics.get("epochs") or 1, metrics.get("train_time_s")
    return {**block(metrics.get("eval")), "peak_mib": metrics.get("peak_mem_mib"),
            "s_per_epoch": None if train_s is None else train_s / epochs}  # fmt: skip


def baselines(metrics: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The suite's baselines: raw pixels, random-init backbone, supervised on few labels."""
    b = metrics.get("baselines") or {}
    rows = {"raw pixels": block(b.get("raw")), "random-init": block(b.get("random_init"))}
    rows["supervised, few labels"] = {"fewshot": pct(pick(b, "supervised_fewshot", "top1_mean"))}
    return rows if b else {}


def speed(
    args: argparse.Namespace, tmp: Path, data: Path, base: list[str], console: Console
) -> Any:
    """SimCLR images/s and kNN: contrastkit and lightly alternating, `--repeats` each."""
    has_lightly = args.lightly_python.is_file()
    if not has_lightly:
        console.print(f"[yellow]lightly skipped: {args.lightly_python} not found[/]")
    hp = {**SPEED, "epochs": args.speed_epochs}
    ck_sets = [*base, f"train.epochs={hp['epochs']}", f"train.batch_size={hp['batch_size']}",
               f"train.lr={hp['lr']}", f"method.temperature={hp['temperature']}",
               f"augment.crop_scale=[{hp['min_scale']},1.0]", "train.warmup_epochs=0",
               "train.amp=false", "eval.baselines=false", "eval.fewshot_draws=1"]  # fmt: skip
    ck_runs: list[dict[str, Any]] = []
    ly_runs: list[dict[str, Any]] = []
    for r in range(args.repeats):
        metrics, wall = ck_train("configs/fashion_simclr.yaml", tmp / f"speed_ck{r}", ck_sets)
        rate, knn = pick(metrics, *TRAIN_RATE), summary(metrics)["knn"]
        ck_runs.append({"images_per_s": rate, "wall_s": wall, "knn": knn})
        console.print(f"contrastkit run {r}: {ck_runs[-1]}")
        if has_lightly:
            ly_runs.append(lightly_run(args, tmp / f"speed_ly{r}", data, hp))
            console.print(f"lightly run {r}: {ly_runs[-1]}")
    out: dict[str, Any] = {"hyperparameters": hp, "contrastkit": ck_runs, "lightly": ly_runs}
    table = Table(title=f"SimCLR speed, resnet_small, {hp['epochs']} epochs")
    for col in ("pipeline", "images/s (median)", "kNN %"):
        table.add_column(col)
    ck_rate = statistics.median(r["images_per_s"] for r in ck_runs)
    table.add_row("contrastkit", f"{ck_rate:.0f}", fmt(ck_runs[-1]["knn"]))
    if ly_runs:
        ly_rate = statistics.median(r["images_per_s"] for r in ly_runs)
        table.add_row("lightly", f"{ly_rate:.0f}", fmt(ly_runs[-1]["knn"]))
        out["ratio_images_per_s"] = ck_rate / ly_rate
        table.add_row("ratio", f"{ck_rate / ly_rate:.2f}x", "")
    else:
        out["lightly_skipped"] = f"{args.lightly_python} not found"
    console.print(table)
    return out


def lightly_run(args: argparse.Namespace, out: Path, data: Path, hp: dict[str, Any]) -> Any:
    """benchmarks/fashion_lightly.py under lightly's interpreter, then contrastkit's kNN."""
    cmd = [str(args.lightly_python), str(ROOT / "benchmarks" / "fashion_lightly.py"),
           "--data", str(data), "--out", str(out), "--epochs", str(hp["epochs"]),
           "--batch-size", str(hp["batch_size"]), "--lr", str(hp["lr"]),
           "--temperature", str(hp["temperature"]), "--min-scale", str(hp["min_scale"]),
           "--workers", str(args.workers),
           "--seed", str(args.seed)]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # never contrastkit's
    start = time.perf_counter()
    done = subprocess.run(cmd, check=True, env=env, capture_output=True, text=True)
    run: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    run["wall_s"] = time.perf_counter() - start
    train_x, test_x = (
        np.load(out / f"{n}_features.npy", allow_pickle=False) for n in ("train", "test")
    )
    labels = [_labels(data / f"{s}-labels-idx1-ubyte") for s in ("train", "t10k")]
    predicted = knn_predict(torch.from_numpy(train_x), labels[0], torch.from_numpy(test_x),
                            num_classes=10, k=20, temperature=0.07)  # fmt: skip
    run["knn"] = 100 * top1_accuracy(predicted, labels[1])
    return run


def _labels(path: Path) -> torch.Tensor:
    raw = path.read_bytes()
    return torch.from_numpy(np.frombuffer(raw, dtype=np.uint8, offset=8).astype(np.int64))


if __name__ == "__main__":
    main()
