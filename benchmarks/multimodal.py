"""Audio-text retrieval on held-out voices and held-out words, against chance and an
untrained two-tower model measured in the same run; optionally the digits image-text demo.

    python benchmarks/multimodal.py [--epochs 20] [--methods clip siglip] [--digits]
    python benchmarks/multimodal.py --languages [--epochs 20] [--methods clip siglip]
    (either also [--seed 0] [--out JSON] [--threads 1])

Trains with the recipe `configs/audio_text_clip.yaml` (speech made with espeak-ng on first
use into build/speech), prints the retrieval table, and writes
benchmarks/results/multimodal.json. With `--languages` it trains
`configs/audio_text_languages.yaml` (the same concepts in English, German, French and
Spanish) instead and also prints audio -> text Recall@1 by language: the clips of each
language against the texts of the same language (within) and of each other language
(across); it writes benchmarks/results/multimodal_languages.json (or --out).
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

from contrastkit.builders import build_method
from contrastkit.config import Config, load_config, settings_of
from contrastkit.modalities.pairs.modality import PairModality, as_two_tower, split_report
from contrastkit.run import train_run
from machine import load_average, run_header  # benchmarks/machine.py

RESULTS = Path(__file__).parent / "results" / "multimodal.json"
LANGUAGE_RESULTS = RESULTS.with_name("multimodal_languages.json")
ROOT = Path(__file__).resolve().parent.parent


def untrained(cfg: Config) -> dict[str, Any]:
    """The same towers at initialisation: what training adds beyond the architecture."""
    modality = PairModality(settings_of(cfg))
    torch.manual_seed(cfg.seed)
    method = as_two_tower(build_method(cfg, modality.new_encoder))
    data = modality.data
    return {name: split_report(method, split, data.modality) for name, split in data.tests.items()}


def rows_of(label: str, block: dict[str, Any], modality: str) -> list[dict[str, Any]]:
    rows = []
    for split, report in block.items():
        if not isinstance(report, dict) or f"{modality}_to_text" not in report:
            continue
        for direction in (f"{modality}_to_text", f"text_to_{modality}"):
            r = report[direction]
            rows.append(
                {
                    "model": label,
                    "split": split,
                    "direction": direction,
                    "recall_at_1": r["recall_at_1"],
                    "recall_at_5": r["recall_at_5"],
                    "recall_at_10": r["recall_at_10"],
                    "mrr": r["mrr"],
                    "chance_recall_at_1": r["chance_recall_at_1"],
                    "chance_mrr": r["chance_mrr"],
                    "r1_over_chance": r["recall_at_1"] / r["chance_recall_at_1"],
                    "queries": int(r["queries"]),
                    "candidates": int(r["candidates"]),
                    "zero_shot_top1": report.get("zero_shot_top1"),
                    "zero_shot_chance": report.get("zero_shot_chance"),
                }
            )
    return rows


def language_rows(label: str, block: dict[str, Any]) -> list[dict[str, Any]]:
    """Audio -> text Recall@1 of each spoken language against the texts of each language
    (`audio_to_text_by_language`), one row per split and spoken language."""
    rows = []
    for split, report in block.items():
        table = report.get("audio_to_text_by_language") if isinstance(report, dict) else None
        if table is None:
            continue
        for spoken, cells in table.items():
            across = [m["recall_at_1"] for text_lang, m in cells.items() if text_lang != spoken]
            rows.append(
                {
                    "model": label,
                    "split": split,
                    "spoken": spoken,
                    "within_recall_at_1": cells[spoken]["recall_at_1"],
                    "chance_recall_at_1": cells[spoken]["chance_recall_at_1"],
                    "across_recall_at_1": sum(across) / len(across),
                    "to": {text_lang: m["recall_at_1"] for text_lang, m in cells.items()},
                    "queries": int(cells[spoken]["queries"]),
                    "candidates": int(cells[spoken]["candidates"]),
                }
            )
    return rows


def print_languages(console: Console, runs: dict[str, Any]) -> None:
    languages = sorted(
        {lang for run in runs.values() for r in run["language_rows"] for lang in r["to"]}
    )
    table = Table(title="audio -> text Recall@1 by spoken language (texts of one language each)")
    for col in (
        "model",
        "split",
        "spoken",
        "within",
        "chance",
        "across (mean)",
        *(f"to {x}" for x in languages),
        "clips",
    ):
        table.add_column(col)
    for run in runs.values():
        for r in run["language_rows"]:
            table.add_row(
                r["model"], r["split"], r["spoken"], f"{r['within_recall_at_1']:.3f}",
                f"{r['chance_recall_at_1']:.3f}", f"{r['across_recall_at_1']:.3f}",
                *(f"{r['to'][x]:.3f}" for x in languages), str(r["queries"]),
            )  # fmt: skip
    console.print(table)


def run_recipe(config: str, name: str, overrides: list[str], out_root: Path) -> dict[str, Any]:
    cfg = load_config(ROOT / config, overrides)
    t0 = time.perf_counter()
    metrics = train_run(cfg, out_root / name, show_progress=False, log=lambda _m: None)
    modality = "audio" if cfg.data.source == "speech" else "image"
    untrained_block = untrained(cfg)
    return {
        "config": config,
        "overrides": overrides,
        "wall_s": time.perf_counter() - t0,
        "train_time_s": metrics["train_time_s"],
        "peak_mem_mib": metrics["peak_mem_mib"],
        "logit_scale": metrics["crossmodal"]["logit_scale"],
        "rows": rows_of(name, metrics["crossmodal"], modality)
        + rows_of(f"{name} untrained", untrained_block, modality),
        "language_rows": language_rows(name, metrics["crossmodal"])
        + language_rows(f"{name} untrained", untrained_block),
        "fewshot_linear_top1": metrics.get("eval", {}).get("fewshot", {}).get("linear_top1_mean"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--methods", nargs="+", default=["clip"], choices=["clip", "siglip"])
    parser.add_argument("--digits", action="store_true", help="also the digits SigLIP demo")
    parser.add_argument(
        "--languages", action="store_true", help="the four-language recipe instead of English"
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0, help="the recipes' seed (weights, order)")
    parser.add_argument("--out", type=Path, help="the JSON (default: by --languages, above)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    console = Console(width=150)
    results: dict[str, Any] = {
        **run_header(args),
        "threads": args.threads,
        "epochs": args.epochs,
        "seed": args.seed,
        "runs": {},
    }
    recipe, prefix = (
        ("configs/audio_text_languages.yaml", "languages")
        if args.languages
        else ("configs/audio_text_clip.yaml", "audio")
    )
    with tempfile.TemporaryDirectory() as tmp:
        for method in args.methods:
            overrides = [
                f"train.epochs={args.epochs}",
                f"method.name={method}",
                f"seed={args.seed}",  # weights and order; data.split_seed keeps the test split
            ]
            results["runs"][f"{prefix}_{method}"] = run_recipe(
                recipe, f"{prefix}_{method}", overrides, Path(tmp)
            )
        if args.digits:
            results["runs"]["digits_siglip"] = run_recipe(
                "configs/digits_text_siglip.yaml", "digits_siglip", [], Path(tmp)
            )
    table = Table(title="cross-modal retrieval (held-out splits), chance = random ranking")
    for col in ("model", "split", "direction", "R@1", "chance R@1", "R@1/chance", "R@5", "MRR",
                "zero-shot", "zs chance"):  # fmt: skip
        table.add_column(col)
    for run in results["runs"].values():
        for r in run["rows"]:
            zs, zc = r["zero_shot_top1"], r["zero_shot_chance"]
            table.add_row(
                r["model"], r["split"], r["direction"], f"{r['recall_at_1']:.3f}",
                f"{r['chance_recall_at_1']:.3f}", f"{r['r1_over_chance']:.1f}x",
                f"{r['recall_at_5']:.3f}", f"{r['mrr']:.3f}",
                "-" if zs is None else f"{zs:.3f}", "-" if zc is None else f"{zc:.3f}",
            )  # fmt: skip
    console.print(table)
    if args.languages:
        print_languages(console, results["runs"])
    for name, run in results["runs"].items():
        console.print(
            f"{name}: train {run['train_time_s']:.0f} s, peak RSS {run['peak_mem_mib']:.0f} MiB, "
            f"logit scale {run['logit_scale']:.1f}"
            + (
                f", few-label linear probe {run['fewshot_linear_top1']:.3f}"
                if run["fewshot_linear_top1"] is not None
                else ""
            )
        )
    results["load_average_after"] = load_average()
    console.print(
        f"load average before {results['load_average_before']}, after "
        f"{results['load_average_after']} ({results['machine']}, {args.threads} thread(s))"
    )
    out = args.out or (LANGUAGE_RESULTS if args.languages else RESULTS)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    console.print(f"wrote {out}")


if __name__ == "__main__":
    main()
