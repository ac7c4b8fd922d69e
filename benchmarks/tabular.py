"""Tabular benchmark: SCARF embeddings vs raw features vs boosting, few labels, three tables.

For breast_cancer, wine and digits_table (scikit-learn's bundled tables), train SCARF with
`configs/tabular_scarf.yaml` on the training split (no labels), then compare on the same
labelled subsets (`eval.tabular_budgets` labels per class, `--draws` draws each):
a logistic probe on the embeddings, the same probe on the raw standardised features (the
baseline measured in the same run: ratio = embedding / raw), and HistGradientBoosting on the
raw columns. Writes benchmarks/results/tabular.json and prints one table per data set.

Run (CPU, a few minutes):
    PYTHONPATH=src nice python benchmarks/tabular.py [--epochs 100] [--draws 10]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from rich.table import Table

from contrastkit.cli import METHODS
from contrastkit.config import load_config
from contrastkit.eval.tabular_table import tabular_table
from contrastkit.run import train_run

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ("breast_cancer", "wine", "digits_table")


def run_one(name: str, args: argparse.Namespace) -> dict[str, Any]:
    overrides = [
        f"data.source={name}",
        f"train.epochs={args.epochs}",
        f"eval.fewshot_draws={args.draws}",
        f"seed={args.seed}",
    ]
    cfg = load_config(ROOT / "configs" / "tabular_scarf.yaml", overrides)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        metrics = train_run(
            cfg, Path(tmp) / "run", METHODS, show_progress=False, log=lambda _m: None
        )
    wall = time.perf_counter() - start
    budgets = metrics["tabular"]["budgets"]
    return {
        "config": overrides,
        "train_time_s": metrics["train_time_s"],
        "wall_time_s": wall,
        "samples_per_s": metrics["samples_per_s"],
        "peak_mem_mib": metrics["peak_mem_mib"],
        "tabular": metrics["tabular"],
        "ratio_embedding_over_raw": {
            k: row["embedding"]["mean"] / row["raw"]["mean"] for k, row in budgets.items()
        },
        "embedding_beats_raw": {
            k: row["embedding"]["mean"] > row["raw"]["mean"] for k, row in budgets.items()
        },
        "best": {k: max(row, key=lambda m: row[m]["mean"]) for k, row in budgets.items()},
        "health": metrics["health"],
    }


def summary_table(results: dict[str, dict[str, Any]]) -> Table:
    table = Table(title="SCARF embedding / raw features (few-label probe accuracy ratio)")
    table.add_column("data")
    budgets = next(iter(results.values()))["ratio_embedding_over_raw"]
    for k in budgets:
        table.add_column(f"{k}/class", justify="right")
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
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/tabular.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    console = Console()
    results = {}
    for name in args.datasets:
        console.print(f"training SCARF on {name} ({args.epochs} epochs)")
        results[name] = run_one(name, args)
        console.print(
            tabular_table(results[name]["tabular"], title=f"{name}: test top-1 (%), mean ± std")
        )
    console.print(summary_table(results))
    wins = [n for n, r in results.items() if r["embedding_beats_raw"].get("2")]
    console.print(f"embedding beats raw at 2 labels/class on: {', '.join(wins) or 'none'}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": "tabular",
        "epochs": args.epochs,
        "draws": args.draws,
        "seed": args.seed,
        "torch_threads": args.threads,
        "device": "cpu",
        "results": results,
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    console.print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
