"""Every method on the bundled digits at an equal budget, plus the baselines, in one run.

Each method trains from its recipe (`configs/digits_<method>.yaml`: same SmallCNN encoder,
batch, optimizer, learning rate and augmentation; SwAV and DINO add their small local
crops) for the same number of epochs, in its own process (`contrastkit train`), so the
peak memory (the process's peak resident set on CPU) is the method's own. The baselines
(raw pixels, random-init encoder, supervised from scratch on the few labels) come from
the first run's evaluation, on the same splits and label draws. Ratios are against SimCLR
measured in the same run.

    nice python benchmarks/methods.py                      # all methods, 25 epochs
    python benchmarks/methods.py --epochs 5 --methods simclr byol
    python benchmarks/methods.py --epochs 100 --set augment.crop_scale=[0.3,1.0]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import torch

from contrastkit.methods.registry import METHODS

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "methods.json"
IMAGE_METHODS = [m for m in METHODS if (ROOT / "configs" / f"digits_{m}.yaml").is_file()]
"""The methods with a digits recipe (CLIP/SigLIP, text and table methods have their own)."""


def train(
    name: str, epochs: int, warmup: int, workdir: Path, baselines: bool, overrides: list[str]
) -> dict[str, Any]:
    """Train one method in a child process; returns its metrics.json."""
    out = workdir / name
    cmd = [
        sys.executable, "-m", "contrastkit", "train",
        "--config", str(ROOT / "configs" / f"digits_{name}.yaml"),
        "--out", str(out), "--overwrite", "--no-progress",
        "--set", f"train.epochs={epochs}",
        "--set", f"train.warmup_epochs={warmup}",
        "--set", f"eval.baselines={str(baselines).lower()}",
        *(f"--set={o}" for o in overrides),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "1"}
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{name} failed:\n{done.stderr[-3000:]}")
    metrics: dict[str, Any] = json.loads((out / "metrics.json").read_text())
    metrics["wall_s"] = time.perf_counter() - start
    return metrics


def row(name: str, m: dict[str, Any], epochs: int) -> dict[str, Any]:
    fewshot = m["eval"]["fewshot"]
    return {
        "method": name,
        "knn_top1": m["eval"]["knn_top1"],
        "linear_top1": m["eval"]["linear_top1"],
        "fewshot_mean": fewshot["linear_top1_mean"],
        "fewshot_std": fewshot["linear_top1_std"],
        "train_time_s": m["train_time_s"],
        "s_per_epoch": m["train_time_s"] / epochs,
        "samples_per_s": m["samples_per_s"],
        "peak_mem_mib": m["peak_mem_mib"],
        "rankme": m["health"]["rankme"],
        "collapse": m.get("collapse"),
    }


def baseline_rows(m: dict[str, Any]) -> list[dict[str, Any]]:
    b = m["baselines"]
    rows = []
    for key in ("raw", "random_init"):
        rows.append(
            {
                "method": f"baseline: {key}",
                "knn_top1": b[key]["knn_top1"],
                "linear_top1": b[key]["linear_top1"],
                "fewshot_mean": b[key]["fewshot"]["linear_top1_mean"],
                "fewshot_std": b[key]["fewshot"]["linear_top1_std"],
            }
        )
    sup = b["supervised_fewshot"]
    rows.append(
        {"method": "baseline: supervised_fewshot", "fewshot_mean": sup["top1_mean"],
         "fewshot_std": sup["top1_std"]}
    )  # fmt: skip
    return rows


def markdown(rows: list[dict[str, Any]], simclr_time: float | None) -> str:
    head = (
        "| method | kNN top-1 | few-label linear (10/class) | linear top-1 | train s | s/epoch "
        "| time vs SimCLR | samples/s | peak MiB | RankMe | collapse |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = []

    def pct(x: float | None) -> str:
        return "-" if x is None else f"{100 * x:.1f}"

    for r in rows:
        t = r.get("train_time_s")
        ratio = f"{t / simclr_time:.2f}x" if t is not None and simclr_time else "-"
        collapse = r.get("collapse")
        lines.append(
            f"| {r['method']} | {pct(r.get('knn_top1'))} | "
            f"{pct(r['fewshot_mean'])} ± {pct(r['fewshot_std'])} | {pct(r.get('linear_top1'))} | "
            + (
                f"{t:.0f} | {r['s_per_epoch']:.2f} | {ratio} | {r['samples_per_s']:.0f} | "
                f"{r['peak_mem_mib']:.0f} | {r['rankme']:.1f} | "
                f"{'step ' + str(collapse['step']) if collapse else 'no'} |"
                if t is not None
                else "- | - | - | - | - | - | - |"
            )
        )
    return head + "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--methods", nargs="+", default=IMAGE_METHODS)
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
        help="config override for every method (repeatable), e.g. augment.crop_scale=[0.3,1.0]",
    )  # fmt: skip
    parser.add_argument("--workdir", type=Path, default=ROOT / "runs" / "bench_methods")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    unknown = sorted(set(args.methods) - set(IMAGE_METHODS))
    if unknown:
        raise SystemExit(f"unknown methods {unknown}; known: {', '.join(IMAGE_METHODS)}")

    rows, baselines = [], []
    for i, name in enumerate(args.methods):
        metrics = train(
            name, args.epochs, args.warmup, args.workdir, baselines=i == 0, overrides=args.overrides
        )
        if i == 0:
            baselines = baseline_rows(metrics)
        rows.append(row(name, metrics, args.epochs))
        r = rows[-1]
        print(
            f"{name:>13}: kNN {r['knn_top1']:.3f} few-label {r['fewshot_mean']:.3f} "
            f"± {r['fewshot_std']:.3f} {r['train_time_s']:.0f} s ({r['s_per_epoch']:.2f} s/epoch) "
            f"{r['peak_mem_mib']:.0f} MiB RankMe {r['rankme']:.1f} "
            f"collapse {r['collapse']['step'] if r['collapse'] else 'no'}",
            flush=True,
        )
    simclr_time = next((r["train_time_s"] for r in rows if r["method"] == "simclr"), None)
    table = markdown(rows + baselines, simclr_time)
    print(table)
    result = {
        "benchmark": "methods",
        "data": "digits",
        "epochs": args.epochs,
        "warmup_epochs": args.warmup,
        "overrides": args.overrides,
        "threads_per_run": 1,
        "torch": torch.__version__,
        "machine": platform.platform(),
        "cpu_count": os.cpu_count(),
        "baseline_method": "simclr",
        "methods": rows,
        "baselines": baselines,
        "markdown": table,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
