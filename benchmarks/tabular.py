"""Tabular benchmark: SCARF embeddings vs raw features vs boosting, few labels, three tables.

For breast_cancer, wine and digits_table (scikit-learn's bundled tables), train SCARF with
`configs/tabular_scarf.yaml` on the training split (no labels), then compare on the same
labelled subsets (`eval.tabular_budgets` labels per class, `--draws` draws each):
a logistic probe on the embeddings, the same probe on the raw standardised features (the
baseline measured in the same run: ratio = embedding / raw), and HistGradientBoosting on the
raw columns. Every cell pools all seeds (SCARF pretraining seed and subset draws) x draws.
Writes benchmarks/results/tabular.json and prints one table per data set.

Run (CPU, a few minutes):
    PYTHONPATH=src nice python benchmarks/tabular.py [--epochs 100] [--draws 10] [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

from contrastkit.config import load_config
from contrastkit.eval.tabular_table import tabular_table
from contrastkit.run import train_run

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ("breast_cancer", "wine", "digits_table")


def run_one(name: str, seed: int, args: argparse.Namespace) -> dict[str, Any]:
    """Train and evaluate SCARF on one table with one seed (the run's metrics, trimmed)."""
    overrides = [
        f"data.source={name}",
        f"train.epochs={args.epochs}",
        f"eval.fewshot_draws={args.draws}",
        f"seed={seed}",
    ]
    cfg = load_config(ROOT / "configs" / "tabular_scarf.yaml", overrides)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        metrics = train_run(cfg, Path(tmp) / "run", show_progress=False, log=lambda _m: None)
    wall = time.perf_counter() - start
    return {
        "config": overrides,
        "train_time_s": metrics["train_time_s"],
        "wall_time_s": wall,
        "samples_per_s": metrics["samples_per_s"],
        "peak_mem_mib": metrics["peak_mem_mib"],
        "tabular": metrics["tabular"],
        "health": metrics["health"],
    }


def pool_seeds(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One `tabular` block over all seeds: each cell pools seeds x draws accuracies."""
    first = runs[0]["tabular"]
    budgets: dict[str, Any] = {}
    for k, row in first["budgets"].items():
        budgets[k] = {}
        for model in row:
            accs = [a for r in runs for a in r["tabular"]["budgets"][k][model]["draws"]]
            budgets[k][model] = {
                "mean": float(np.mean(accs)),
                "std": float(np.std(accs)),
                "draws": accs,
            }
    all_labels = {
        m: float(np.mean([r["tabular"]["all_labels"][m] for r in runs]))
        for m in first["all_labels"]
    }
    ratio = {k: row["embedding"]["mean"] / row["raw"]["mean"] for k, row in budgets.items()}
    return {
        "budgets": budgets,
        "all_labels": all_labels,
        "ratio_embedding_over_raw": ratio,
        "embedding_beats_raw": {k: r > 1.0 for k, r in ratio.items()},
        "best": {k: max(row, key=lambda m: row[m]["mean"]) for k, row in budgets.items()},
        "train_time_s": float(np.mean([r["train_time_s"] for r in runs])),
        "samples_per_s": float(np.mean([r["samples_per_s"] for r in runs])),
        "peak_mem_mib": max(r["peak_mem_mib"] for r in runs),
    }


def summary_table(results: dict[str, dict[str, Any]]) -> Table:
    table = Table(title="SCARF embedding / raw features: probe accuracy ratio per labels/class")
    table.add_column("data")
    budgets = next(iter(results.values()))["ratio_embedding_over_raw"]
    for k in budgets:
        table.add_column(k, justify="right")
    table.add_column("train s", justify="right")
    table.add_column("rows/s", justify="right")
    table.add_column("peak MiB", justify="right")
    for name, r in results.items():
        table.add_row(
            name,
            *(f"{r['ratio_embedding_over_raw'][k]:.3f}" for k in budgets),
            f"{r['train_time_s']:.0f}",
            f"{r['samples_per_s']:.0f}",
            f"{r['peak_mem_mib']:.0f}",
        )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--draws", type=int, default=10)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/tabular.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    console = Console()
    results: dict[str, dict[str, Any]] = {}
    runs: dict[str, list[dict[str, Any]]] = {}
    for name in args.datasets:
        console.print(f"training SCARF on {name} ({args.epochs} epochs, seeds {args.seeds})")
        runs[name] = [run_one(name, seed, args) for seed in args.seeds]
        results[name] = pool_seeds(runs[name])
        title = f"{name}: test top-1 (%), mean ± std over {len(args.seeds)} seeds x {args.draws}"
        console.print(tabular_table(results[name], title=title))
    console.print(summary_table(results))
    for k in next(iter(results.values()))["budgets"]:
        wins = [n for n, r in results.items() if r["embedding_beats_raw"].get(k)]
        console.print(f"embedding beats raw at {k} labels/class on: {', '.join(wins) or 'none'}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": "tabular",
        "epochs": args.epochs,
        "draws": args.draws,
        "seeds": args.seeds,
        "torch_threads": args.threads,
        "device": "cpu",
        "results": results,
        "runs": runs,
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    console.print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
