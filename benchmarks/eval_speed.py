"""Evaluation speed on Fashion-MNIST: the evaluation's metric code of before (scikit-learn's
probes and k-means, all on the CPU; benchmarks/eval_before.py) against the torch code of
now on the run's device, on the same features in the same run.

A trained run is loaded (`--run`; without it one SimCLR epoch of configs/fashion_simclr.yaml
is trained first: seconds on a GPU, about ten minutes on 2 CPU cores). Sections
(`--sections`, all by default, run in the order given; the JSON is written after each
row, so a run cut short keeps what it measured):
- trained: the encoder embeds the 60,000 + 10,000 images once (or `--features` reads them),
  health is measured on the test embedding, and each part of the evaluation is timed on
  those features by each path, with the values it measured: "now" (torch on `--device`),
  on a GPU "now_cpu" (torch on the CPU, all its cores: the same math, for the agreement),
  then "before" (scikit-learn, CPU; on a GPU only with `--sklearn`, 90-120 s of CPU on an
  H200 host);
- whole: the evaluation as `contrastkit eval` runs it (`evaluate_images`: embedding, health
  and every part) without the baselines; `--whole-baselines` times it with them too (the
  supervised baseline held to its time budget, about the training time);
- baselines: the raw pixels' and the random-init encoder's features (their embedding
  included) scored by the code of now: the baselines' cost besides the supervised one.

Writes benchmarks/results/eval_speed_<device>.json and prints the tables. Run:
    CPU:  PYTHONPATH=src python benchmarks/eval_speed.py --run RUN
    GPU:  PYTHONPATH=src python benchmarks/eval_speed.py --device cuda --whole-baselines
    smoke test:  ... --max-train 3000 --max-test 600 --no-supervised
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.console import Console
from rich.table import Table
from torch import Tensor

import eval_before  # benchmarks/eval_before.py
from contrastkit.atomic import read_json, write_json_atomic
from contrastkit.augment.build import build_augment
from contrastkit.augment.image import to_float
from contrastkit.config import eval_budget_s
from contrastkit.data.split import ImageSplit
from contrastkit.encoders.build import build_encoder
from contrastkit.eval.anomaly import anomaly_classes, one_class_summary
from contrastkit.eval.clustering import kmeans_scores
from contrastkit.eval.embed import embed_images
from contrastkit.eval.linear import fewshot_accuracies, fewshot_indices, linear_probe_predict
from contrastkit.eval.options import EvalConfig
from contrastkit.eval.retrieval import leave_one_out_retrieval
from contrastkit.eval.scores import neighbour_scores
from contrastkit.eval.suite import health
from contrastkit.modalities.images.modality import encoder_of, evaluate_images
from contrastkit.run import load_run
from machine import load_average, run_header  # benchmarks/machine.py

ROOT = Path(__file__).resolve().parents[1]
Scores = dict[str, float]
Part = Callable[[Tensor, Tensor, Tensor, Tensor], Scores]
"""(train features, train labels, test features, test labels) -> the values measured."""


def timed(fn: Callable[[], Any], device: torch.device) -> tuple[Any, float]:
    """fn's result and its wall time in seconds, the device's queue drained before and after."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    out = fn()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return out, time.perf_counter() - start


def accuracy(preds: np.ndarray | Tensor, truth: Tensor) -> float:
    return float(np.mean(np.asarray(torch.as_tensor(preds).cpu()) == truth.cpu().numpy()))


def parts(
    before: bool, cfg: EvalConfig, subsets: list[np.ndarray], seed: int, classes: int
) -> dict[str, Part]:
    """The parts of `embedding_scores`, by the code of before (`eval_before`) or of now."""

    def neighbours(tr: Tensor, ty: Tensor, te: Tensor, ey: Tensor) -> Scores:
        if before:
            preds = eval_before.knn_predict(
                tr, ty, te, num_classes=classes, k=cfg.knn_k, temperature=cfg.knn_temperature
            )
            auroc = eval_before.anomaly_auroc(tr, ty, te, ey, cfg.anomaly_k)
        else:
            preds, scores = neighbour_scores(tr, ty, te, num_classes=classes, cfg=cfg)
            summary = one_class_summary(scores, ey, anomaly_classes(ty, ey), cfg.anomaly_k)
            auroc = float(summary["auroc"])
        return {"knn_top1": accuracy(preds, ey), "anomaly_auroc": auroc}

    def linear(tr: Tensor, ty: Tensor, te: Tensor, ey: Tensor) -> Scores:
        preds = (
            eval_before.probe_predict(tr, ty, te) if before else linear_probe_predict(tr, ty, te)
        )
        return {"linear_top1": accuracy(preds, ey)}

    def fewshot(tr: Tensor, ty: Tensor, te: Tensor, ey: Tensor) -> Scores:
        if before:
            accs = [accuracy(eval_before.probe_predict(tr[s], ty[s], te), ey) for s in subsets]
        else:
            accs = fewshot_accuracies(tr, ty, te, ey, subsets)
        draws = {f"fewshot_draw_{i}": a for i, a in enumerate(accs)}
        return {"fewshot_mean": float(np.mean(accs)), **draws}

    def retrieval(tr: Tensor, ty: Tensor, te: Tensor, ey: Tensor) -> Scores:
        if before:
            return eval_before.retrieval_map(te, ey)
        out = leave_one_out_retrieval(te, ey, metric=cfg.knn_metric)
        return {"recall_at_1": out["recall_at_1"], "map": out["map"]}

    def clustering(tr: Tensor, ty: Tensor, te: Tensor, ey: Tensor) -> Scores:
        if before:
            return eval_before.kmeans_scores(te, ey, classes, seed)
        return kmeans_scores(te, ey, num_clusters=classes, seed=seed)

    return {
        "kNN + anomaly": neighbours,
        "linear probe": linear,
        "few-label probes": fewshot,
        "retrieval": retrieval,
        "k-means": clustering,
    }


def score_features(
    features: str,
    z: tuple[Tensor, Tensor],
    data: ImageSplit,
    paths: dict[str, torch.device],
    context: dict[str, Any],
    keep: Callable[[dict[str, Any]], None],
) -> None:
    """One row per part and path, handed to `keep` as soon as it is measured: its seconds
    and the values it measured on `z`."""
    for path, device in paths.items():
        train, test = z[0].to(device), z[1].to(device)
        ty, ey = data.y_train.to(device), data.y_test.to(device)
        for part, fn in parts(path == "before", **context).items():
            values, seconds = timed(partial(fn, train, ty, test, ey), device)
            keep({"features": features, "part": part, "path": path, "seconds": seconds,
                  "values": values})  # fmt: skip


def health_row(
    encoder: torch.nn.Module, data: ImageSplit, test_z: Tensor, augment: Any, seed: int
) -> dict[str, Any]:
    """Health as the evaluation computes it now (the test images' embedding reused)."""
    device = next(encoder.parameters()).device
    values, seconds = timed(
        lambda: health(encoder, data.x_test, augment, seed, z=test_z.to(device)), device
    )
    return {"features": "trained", "part": "health", "path": "now", "seconds": seconds,
            "values": values}  # fmt: skip


def random_features(settings: Any, data: ImageSplit, device: torch.device) -> tuple[Tensor, Tensor]:
    """The random-init baseline's features: the run's encoder built afresh under its seed
    (as `evaluate_images` builds it), embedding the train and test images."""
    torch.manual_seed(settings.seed)
    encoder = build_encoder(
        settings.model.random_init(), int(data.x_train.shape[1]),
        image_size=settings.augment.size or int(data.x_train.shape[2]),
    ).to(device)  # fmt: skip
    return embed_images(encoder, data.x_train), embed_images(encoder, data.x_test)


def train_quick_run(out: Path, device: str) -> None:
    """One SimCLR epoch on Fashion-MNIST by the CLI (with its own evaluation)."""
    command = [
        sys.executable, "-m", "contrastkit", "train", "--config",
        str(ROOT / "configs/fashion_simclr.yaml"), "--out", str(out), "--no-progress",
        "--set", "train.epochs=1", "--set", "train.warmup_epochs=0",
        "--set", "eval.baselines=false", "--set", f"train.device={device}",
    ]  # fmt: skip
    subprocess.run(command, check=True)


def subsample(data: ImageSplit, max_train: int, max_test: int, seed: int) -> ImageSplit:
    """A seeded subset of each split (0: all of it), for smoke tests."""
    gen = torch.Generator().manual_seed(seed)

    def keep(n: int, limit: int) -> Tensor:
        return torch.randperm(n, generator=gen)[: limit or n].sort().values

    tr, te = keep(len(data.y_train), max_train), keep(len(data.y_test), max_test)
    return replace(
        data, x_train=data.x_train[tr], y_train=data.y_train[tr],
        x_test=data.x_test[te], y_test=data.y_test[te],
    )  # fmt: skip


def load(args: argparse.Namespace, result: dict[str, Any]) -> tuple[Any, Any, torch.nn.Module]:
    """The run's config, modality and method (on `--device`), trained here without `--run`."""
    with tempfile.TemporaryDirectory() as tmp:
        run = args.run
        if run is None:
            run = Path(tmp) / "run"
            _, result["train_s"] = timed(
                lambda: train_quick_run(run, args.device), torch.device("cpu")
            )
        cfg, modality, method = load_run(run)
        train_time_s = read_json(run / "metrics.json").get("train_time_s")
        result["supervised_budget_s"] = eval_budget_s(cfg, train_time_s)
    return cfg, modality, method.to(torch.device(args.device))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, help="a trained Fashion-MNIST run directory")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--threads", type=int, help="CPU threads (default: 2 on cpu, all on cuda)")
    parser.add_argument(
        "--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS),
        help="run in the order given: trained: each part on the trained features, by each "
        "path; whole: the evaluation without baselines; baselines: the raw pixels' and "
        "random-init features' parts",
    )  # fmt: skip
    parser.add_argument("--sklearn", action="store_true", help="on cuda: time scikit-learn too")
    parser.add_argument(
        "--whole-baselines", action="store_true",
        help="also time the whole evaluation with the baselines (the supervised one included)",
    )  # fmt: skip
    parser.add_argument("--max-train", type=int, default=0, help="training images (0: all)")
    parser.add_argument("--max-test", type=int, default=0, help="test images (0: all)")
    parser.add_argument("--no-supervised", action="store_true", help="one supervised step")
    parser.add_argument(
        "--features", type=Path,
        help="the trained features: read from this file when it exists, else embedded and "
        "saved there (torch.save of {'train', 'test'} tensors)",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, help="default benchmarks/results/eval_speed_<dev>.json")
    return parser.parse_args()


SECTIONS = ("trained", "whole", "baselines")


@dataclass
class Bench:
    """What every section needs, and the result written after each row it measures."""

    args: argparse.Namespace
    settings: Any
    data: ImageSplit
    method: torch.nn.Module
    context: dict[str, Any]
    result: dict[str, Any]
    out: Path

    @property
    def device(self) -> torch.device:
        return next(self.method.parameters()).device

    def keep(self, row: dict[str, Any]) -> None:
        """Record a row and write the JSON: a run cut short keeps what it measured."""
        self.result["rows"].append(row)
        print(f"{row['features']:>11} {row['part']:>18} {row['path']:>8}: "
              f"{row['seconds']:7.2f} s {row['values']}", flush=True)  # fmt: skip
        self.write()

    def write(self) -> None:
        self.result["load_average_after"] = load_average()
        write_json_atomic(self.out, self.result)


def whole_evaluation(
    bench: Bench, *, baselines: bool, supervised: bool
) -> tuple[dict[str, Any], float]:
    """`evaluate_images` as `contrastkit eval` runs it (the supervised baseline held to the
    run's budget), timed; `supervised=False` cuts the supervised baseline to one step per
    draw."""
    settings, data, method = bench.settings, bench.data, bench.method
    update: dict[str, Any] = {"baselines": baselines}
    if not supervised:
        update["supervised_steps"] = 1
    cfg = settings.eval.model_copy(update=update)
    device = next(method.parameters()).device
    budget_s = bench.result["supervised_budget_s"]
    return timed(
        lambda: evaluate_images(
            replace(settings, eval=cfg), data, method, lambda _m: None, budget_s=budget_s
        ),
        device,
    )


def trained_features(bench: Bench) -> tuple[Tensor, Tensor]:
    """The trained encoder's features of the train and test images, embedded and timed,
    or read from `--features` (saved there by an earlier run of this script)."""
    cached = bench.args.features
    if cached is not None and cached.exists():
        saved = torch.load(cached, weights_only=True)
        bench.result["features_from"] = str(cached)
        return saved["train"], saved["test"]
    encoder, data = encoder_of(bench.method), bench.data
    (train_z, test_z), embed_s = timed(
        lambda: (embed_images(encoder, data.x_train), embed_images(encoder, data.x_test)),
        bench.device,
    )
    bench.keep({"features": "trained", "part": "embed train + test", "path": "now",
                "seconds": embed_s, "values": {}})  # fmt: skip
    if cached is not None:
        torch.save({"train": train_z, "test": test_z}, cached)
    return train_z, test_z


def section_trained(bench: Bench) -> None:
    """Health and each part on the trained features: now first, then before (module doc)."""
    train_z, test_z = trained_features(bench)
    encoder, seed = encoder_of(bench.method), bench.settings.seed
    augment = build_augment(bench.settings.augment)
    bench.keep(health_row(encoder, bench.data, test_z, augment, seed))
    # on a GPU, "now_cpu": the same torch code on the CPU, for the agreement
    cpu = {} if bench.device.type == "cpu" else {"now_cpu": torch.device("cpu")}
    sklearn = bench.device.type == "cpu" or bench.args.sklearn
    before = {"before": torch.device("cpu")} if sklearn else {}
    paths = {"now": bench.device, **cpu, **before}
    score_features("trained", (train_z, test_z), bench.data, paths, bench.context, bench.keep)


def section_whole(bench: Bench) -> None:
    """The evaluation as `contrastkit eval` runs it, without (and with) the baselines."""
    args = bench.args
    metrics, without_s = whole_evaluation(bench, baselines=False, supervised=True)
    whole = bench.result["whole_evaluation"] = {
        "without_baselines_s": without_s,
        "eval": {k: metrics["eval"][k] for k in ("knn_top1", "linear_top1", "nmi", "ari")},
    }
    print(f"whole evaluation without baselines: {without_s:.1f} s", flush=True)
    bench.write()
    if args.whole_baselines:
        _, with_s = whole_evaluation(bench, baselines=True, supervised=not args.no_supervised)
        whole.update(
            with_baselines_s=with_s, baselines_s=with_s - without_s,
            supervised_baseline="one step per draw" if args.no_supervised else "full",
        )  # fmt: skip
        bench.write()


def section_baselines(bench: Bench) -> None:
    """The raw pixels' and the random-init encoder's features, scored by the code of now."""
    data, now = bench.data, {"now": bench.device}
    raw = (to_float(data.x_train).flatten(1), to_float(data.x_test).flatten(1))
    score_features("raw pixels", raw, data, now, bench.context, bench.keep)
    random_init, random_s = timed(
        lambda: random_features(bench.settings, data, bench.device), bench.device
    )
    bench.keep({"features": "random init", "part": "embed train + test", "path": "now",
                "seconds": random_s, "values": {}})  # fmt: skip
    score_features("random init", random_init, data, now, bench.context, bench.keep)
    bench.write()


def main() -> None:
    args = parse_args()
    device = torch.device(args.device)
    if args.threads or device.type == "cpu":
        torch.set_num_threads(args.threads or 2)
    result: dict[str, Any] = run_header(args)
    cfg, modality, method = load(args, result)
    data = subsample(modality.eval_data, args.max_train, args.max_test, cfg.seed)
    print(f"{len(data.y_train)} train / {len(data.y_test)} test images on {device}", flush=True)
    result.update(
        device=str(device), train_images=len(data.y_train), test_images=len(data.y_test),
        run=str(args.run or "one epoch trained here"), rows=[],
    )  # fmt: skip
    subsets = fewshot_indices(
        data.y_train.numpy(), per_class=cfg.eval.fewshot_labels_per_class,
        draws=cfg.eval.fewshot_draws, seed=cfg.seed,
    )  # fmt: skip
    bench = Bench(
        args, replace(modality.settings, eval=cfg.eval), data, method,
        {"cfg": cfg.eval, "subsets": subsets, "seed": cfg.seed, "classes": data.num_classes},
        result, args.out or ROOT / f"benchmarks/results/eval_speed_{device.type}.json",
    )  # fmt: skip
    sections = {"trained": section_trained, "whole": section_whole,
                "baselines": section_baselines}  # fmt: skip
    for name in args.sections:  # in the order given
        sections[name](bench)
    print_tables(result)
    print(f"wrote {bench.out}")


def print_tables(result: dict[str, Any]) -> None:
    """Seconds per part and path (with the totals of the trained features' parts), and the
    values each path measured."""
    rows = result["rows"]
    paths = [p for p in ("before", "now", "now_cpu") if any(r["path"] == p for r in rows)]
    table = Table(title=f"evaluation parts on {result['device']}: seconds")
    for column in ("features", "part", *paths):
        table.add_column(column, justify="right")
    keys = list(dict.fromkeys((r["features"], r["part"]) for r in rows))
    for features, part in keys:
        cells = {
            r["path"]: r["seconds"] for r in rows if (r["features"], r["part"]) == (features, part)
        }
        table.add_row(features, part, *[f"{cells[p]:.2f}" if p in cells else "" for p in paths])
    for features in dict.fromkeys(f for f, _ in keys):  # the parts every path timed
        timed_by = {p: {r["part"] for r in rows if (r["features"], r["path"]) == (features, p)}
                    for p in paths}  # fmt: skip
        shared = set.intersection(*[t for t in timed_by.values() if t])
        sums = {
            p: sum(r["seconds"] for r in rows if r["features"] == features and r["path"] == p
                   and r["part"] in shared)
            for p, t in timed_by.items() if t
        }  # fmt: skip
        every = {r["part"] for r in rows if r["features"] == features}
        label = "sum" if shared == every else "sum of the parts both paths timed"
        table.add_row(features, label, *[f"{sums[p]:.2f}" if p in sums else "" for p in paths])
    console = Console()
    console.print(table)
    values = Table(title="values measured (before / now / now_cpu)")
    for column in ("features", "metric", *paths):
        values.add_column(column, justify="right")
    for features, part in keys:
        cells = {
            r["path"]: r["values"] for r in rows if (r["features"], r["part"]) == (features, part)
        }
        for metric in next(iter(cells.values())):
            values.add_row(
                features,
                metric,
                *[
                    f"{cells[p][metric]:.4f}" if p in cells and metric in cells[p] else ""
                    for p in paths
                ],
            )
    console.print(values)
    if "whole_evaluation" in result:
        console.print(f"whole evaluation: {result['whole_evaluation']}")


if __name__ == "__main__":
    main()
