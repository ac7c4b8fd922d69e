"""Text benchmark: `contrastkit train` beside sentence-transformers, and the recipes.

`--part trainers` (the default): sentence-transformers' `SentenceTransformerTrainer` with
MultipleNegativesRankingLoss against `contrastkit train` on the same MiniLM, the same WordNet
pairs, batch size, learning rate, weight decay, clipping and number of steps, one after the
other in child processes (`benchmarks/text_trainers.py`): sentences/s by the wall clock and
per CPU-second of the process (the figure to compare on a shared machine), peak RSS, and the
held-out Recall@1 / MRR / mAP after training; the ratios are of this run.

    python benchmarks/text.py                          # ~3 min on one CPU core
    python benchmarks/text.py --bf16                   # and both again in bfloat16 (~6 min)
    python benchmarks/text.py --train-synsets 300 --test-synsets 100    # a quick look

`--part recipes`: trains each recipe (configs/text_pairs.yaml with and without hard negatives,
configs/text_simcse.yaml) from the same base all-MiniLM-L6-v2 on the same WordNet split
with `train_run`, and reports the held-out Recall@1 / MRR / mAP of the base model and of
each fine-tuned model (delta = trained - base, measured in this run). Speed: sentences/s
for encoding the held-out texts with our encoder and with sentence-transformers' `encode`
on the same model (the baseline), and sentences/s while training. Peak memory is the
process's peak resident set (CPU) or peak CUDA allocation.

    python benchmarks/text.py --part recipes           # the configs' sizes (minutes on CPU)
    python benchmarks/text.py --part recipes --train-synsets 300 --variants pairs_hard
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from rich.table import Table
from torch import Tensor

from contrastkit.config import load_config
from contrastkit.encoders.text import (
    embed_tokens,
    load_text_encoder,
    load_tokenizer,
    resolve_model_dir,
    tokenize,
)
from contrastkit.modalities.text.sources import load_text_data
from contrastkit.run import train_run
from contrastkit.train.loop import peak_memory_mib
from machine import load_average, run_header  # benchmarks/machine.py
from text_trainers import TRAINERS  # benchmarks/text_trainers.py

VARIANTS = {
    "pairs_hard": ("configs/text_pairs.yaml", []),
    "pairs": ("configs/text_pairs.yaml", ["text.hard_negatives=false"]),
    "simcse": ("configs/text_simcse.yaml", []),
}
"""name -> (config, extra overrides); all start from the same base model and split."""
METRICS = ("recall_at_1", "recall_at_5", "mrr", "map")
METRICS_ST = ("recall_at_1", "mrr", "map")
"""What both trainers' runs are scored on."""


def _timed(fn: Callable[[], Tensor], repeats: int) -> tuple[Tensor, float, float]:
    """Best wall and process-CPU seconds of `repeats` calls (after one warm-up call)."""
    out = fn()
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return out, min(walls), min(cpus)


def encoding_speed(
    cfg_path: str, overrides: list[str], batch_size: int, repeats: int = 2
) -> dict[str, Any]:
    """Sentences/s embedding the held-out texts (tokenising included): ours vs
    sentence-transformers' `encode` on the same model, best of `repeats` after a warm-up.
    CPU-time rates are what to compare on a shared machine; wall-clock rates are noisy."""
    from sentence_transformers import SentenceTransformer

    cfg = load_config(cfg_path, overrides)
    task = load_text_data(cfg.data, cfg.text).test
    assert task is not None
    texts = task.queries + task.corpus
    tokenizer = load_tokenizer(cfg.text.model)
    encoder = load_text_encoder(cfg.text.model, normalize=True)
    reference = SentenceTransformer(
        str(resolve_model_dir(cfg.text.model)), device="cpu", local_files_only=True
    )
    reference.max_seq_length = cfg.text.max_length

    def ours() -> Tensor:
        tokens = tokenize(tokenizer, texts, max_length=cfg.text.max_length)
        return embed_tokens(encoder, tokens, batch_size=batch_size)

    def theirs() -> Tensor:
        return reference.encode(texts, batch_size=batch_size, convert_to_tensor=True).cpu()

    ours_z, ours_wall, ours_cpu = _timed(ours, repeats)
    ref_z, ref_wall, ref_cpu = _timed(theirs, repeats)
    n = len(texts)
    return {
        "texts": n,
        "batch_size": batch_size,
        "ours_sentences_per_s": n / ours_wall,
        "sentence_transformers_sentences_per_s": n / ref_wall,
        "ours_sentences_per_cpu_s": n / ours_cpu,
        "sentence_transformers_sentences_per_cpu_s": n / ref_cpu,
        "cpu_speed_ratio": ref_cpu / ours_cpu,
        "max_abs_diff_vs_sentence_transformers": float((ours_z - ref_z).abs().max()),
    }


def run_variant(name: str, overrides: list[str], out: Path) -> dict[str, Any]:
    cfg_path, extra = VARIANTS[name]
    cfg = load_config(cfg_path, overrides + extra)
    metrics = train_run(cfg, out / name, overwrite=True, show_progress=False, log=lambda _m: None)
    return metrics


def record(results: dict[str, Any], name: str, metrics: dict[str, Any]) -> None:
    """Add one trained variant (and, the first time, the task and base model) to `results`."""
    text = metrics["text"]
    base = text["base"]
    results.setdefault("task", text["task"])
    results.setdefault("queries", text["queries"])
    results.setdefault("corpus", text["corpus"])
    results.setdefault("base", {k: base[k] for k in METRICS})
    trained = text["trained"]
    results["variants"][name] = {
        **{k: trained[k] for k in METRICS},
        "delta_vs_base": {k: trained[k] - base[k] for k in METRICS},
        "train_time_s": metrics["train_time_s"],
        "train_pairs_or_sentences_per_s": metrics["samples_per_s"],
        "train_sentences_per_s": metrics["train_sentences_per_s"],
        "epochs": metrics["epochs"],
    }


def results_table(results: dict[str, Any]) -> Table:
    """Base model and each variant: held-out metrics (delta vs base), training speed."""
    base = results["base"]
    title = f"{results['task']}: {results['queries']} queries, {results['corpus']} words"
    table = Table(title=title)
    for column in ("model", *METRICS, "train sentences/s", "train s"):
        table.add_column(column, justify="left" if column == "model" else "right")
    table.add_row("base all-MiniLM-L6-v2", *(f"{base[k]:.3f}" for k in METRICS), "-", "-")
    for name, row in results["variants"].items():
        table.add_row(
            name,
            *(f"{row[k]:.3f} ({row['delta_vs_base'][k]:+.3f})" for k in METRICS),
            f"{row['train_sentences_per_s']:.1f}",
            f"{row['train_time_s']:.0f}",
        )
    return table


def compare_trainers(args: argparse.Namespace, console: Console) -> None:
    """sentence-transformers' trainer, then `contrastkit train`, each in a child process."""
    job = {
        "train_synsets": args.train_synsets or 1200,
        "test_synsets": args.test_synsets or 500,
        "batch_size": args.batch_size,
        "threads": args.threads,
        "seed": args.seed,
    }
    results: dict[str, Any] = {**run_header(args), "job": job, "trainers": {}, "ratios": {}}
    for precision in ("float32", "bf16") if args.bf16 else ("float32",):
        for name in TRAINERS:
            key = name + ("_bf16" if precision == "bf16" else "")
            console.print(f"training with {name} ({precision}) ...")
            one = json.dumps({**job, "bf16": precision == "bf16"})
            done = subprocess.run(
                [sys.executable, str(Path(__file__).with_name("text_trainers.py")), name, one],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
            results["trainers"][key] = {"precision": precision}
            results["trainers"][key].update(json.loads(line.removeprefix("RESULT ")))
        suffix = "_bf16" if precision == "bf16" else ""
        ours = results["trainers"]["contrastkit" + suffix]
        theirs = results["trainers"]["sentence_transformers" + suffix]
        results["ratios"][precision] = {
            "sentences_per_s": ours["sentences_per_s"] / theirs["sentences_per_s"],
            "sentences_per_cpu_s": ours["sentences_per_cpu_s"] / theirs["sentences_per_cpu_s"],
            "recall_at_1_points": 100 * (ours["recall_at_1"] - theirs["recall_at_1"]),
        }
    results["load_average_after"] = load_average()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    console.print(trainers_table(results))
    console.print(f"wrote {args.out}")


def trainers_table(results: dict[str, Any]) -> Table:
    """One row per trainer (and the base model): steps, speed, memory, held-out metrics."""
    job = results["job"]
    table = Table(
        title=f"WordNet pairs, batch {job['batch_size']}, seed {job['seed']}, "
        f"{job['threads']} CPU thread(s), "
        f"load {results['load_average_before']} before, {results['load_average_after']} after"
    )
    for column in (
        "trainer",
        "precision",
        "steps",
        "sentences/s",
        "sentences/CPU-s",
        "peak RSS MiB",
    ):
        table.add_column(column, justify="left" if column == "trainer" else "right")
    for column in ("R@1", "MRR", "mAP"):
        table.add_column(column, justify="right")
    base = results["trainers"]["contrastkit"]["base"]
    table.add_row(
        "base model (not trained)", *["-"] * 5, *(f"{100 * base[k]:.1f}" for k in METRICS_ST)
    )
    for name, row in results["trainers"].items():
        table.add_row(
            name.removesuffix("_bf16"),
            row["precision"],
            str(row["steps"]),
            f"{row['sentences_per_s']:.1f}",
            f"{row['sentences_per_cpu_s']:.1f}",
            f"{row['peak_rss_mib']:.0f}",
            *(f"{100 * row[k]:.1f}" for k in METRICS_ST),
        )
    table.caption = "; ".join(
        f"{precision}: contrastkit / sentence-transformers {r['sentences_per_s']:.2f}x "
        f"sentences/s, {r['sentences_per_cpu_s']:.2f}x per CPU-second, R@1 "
        f"{r['recall_at_1_points']:+.1f} points"
        for precision, r in results["ratios"].items()
    )
    return table


def compare_recipes(args: argparse.Namespace, console: Console) -> None:
    """Each recipe trained from the base model, and encoding speed beside
    sentence-transformers' `encode`."""
    overrides = []
    if args.train_synsets is not None:
        overrides.append(f"text.wordnet_train_synsets={args.train_synsets}")
    if args.test_synsets is not None:
        overrides.append(f"text.wordnet_test_synsets={args.test_synsets}")
    if args.epochs is not None:
        overrides.append(f"train.epochs={args.epochs}")
    results: dict[str, Any] = {"threads": args.threads, "overrides": overrides}
    results["encoding"] = encoding_speed("configs/text_pairs.yaml", overrides, batch_size=128)
    results["variants"] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.variants:
            console.print(f"training {name} ...")
            metrics = run_variant(name, overrides, Path(tmp))
            record(results, name, metrics)
            results["peak_mem_mib"] = peak_memory_mib(torch.device("cpu"))
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(results, indent=2) + "\n")  # after every variant
    console.print(results_table(results))
    speed = results["encoding"]
    console.print(
        f"encoding {speed['texts']} texts: ours {speed['ours_sentences_per_s']:.0f} sentences/s, "
        f"sentence-transformers {speed['sentence_transformers_sentences_per_s']:.0f} "
        f"wall clock; per CPU-second ours {speed['ours_sentences_per_cpu_s']:.0f}, "
        f"sentence-transformers {speed['sentence_transformers_sentences_per_cpu_s']:.0f} "
        f"(ours {speed['cpu_speed_ratio']:.2f}x), max |diff| "
        f"{speed['max_abs_diff_vs_sentence_transformers']:.1e}; peak RSS "
        f"{results['peak_mem_mib']:.0f} MiB"
    )
    console.print(f"wrote {args.out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("trainers", "recipes"), default="trainers")
    parser.add_argument("--train-synsets", type=int, default=None)
    parser.add_argument("--test-synsets", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=32, help="trainers: both trainers'")
    parser.add_argument("--epochs", type=int, default=None, help="recipes: epochs of each")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument(
        "--seed", type=int, default=0, help="trainers: both trainers' seed (the split is fixed)"
    )
    parser.add_argument(
        "--bf16",
        action="store_true",
        help="trainers: both trainers again under bfloat16 autocast (train.amp; their bf16)",
    )
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    args.out = args.out or Path(
        f"benchmarks/results/text{'_trainers' * (args.part == 'trainers')}.json"
    )
    console = Console(width=150)
    if args.part == "trainers":
        compare_trainers(args, console)
    else:
        compare_recipes(args, console)


if __name__ == "__main__":
    main()
