"""The first hour on folders the project was not designed for: the default
`contrastkit train --data FOLDER` (EfficientNet-Lite0 from its ImageNet weights, fine-tuned)
against raw pixels, the random-init encoder and the pretrained encoder not fine-tuned.

Folders (`benchmarks/picture_folders.py`; Debian packages openclipart-png and
mate-icon-theme, which `make bench-deps` installs, and dataset-fashion-mnist, which `make
system-deps` installs): clip art (8 classes, 96x96), icons (7 contexts, 48x48), 2,000
Fashion-MNIST test images (10 classes, 28x28 grey). For each: the
wall time of `train` from the command to its table (training and the whole evaluation), kNN
and few-label (10 labels per class) of the run's table, and precision@10 of whole-image
search: for every picture of the folder, the share of its 10 nearest others (cosine) of its
own class. Then `index` and `search` with one picture per folder, through the CLI.

    python benchmarks/pretrained.py --work /tmp/pretrained_bench
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from rich.console import Console
from rich.table import Table

from contrastkit.atomic import write_json_atomic
from contrastkit.augment.image import to_float
from contrastkit.encoders.build import build_encoder
from contrastkit.eval.embed import embed_images
from contrastkit.run import load_run
from machine import load_average, run_header  # benchmarks/machine.py
from picture_folders import make_folder  # benchmarks/picture_folders.py

ROWS = (
    ("raw", "raw pixels"),
    ("random_init", "random-init"),
    ("pretrained", "pretrained, not fine-tuned"),
    ("run", "fine-tuned (default run)"),
)


def precision_at_10(z: torch.Tensor, labels: torch.Tensor) -> float:
    """Mean share of each item's 10 nearest other items (cosine) that share its label."""
    z = F.normalize(z.float(), dim=1)
    sim = z @ z.T
    sim.fill_diagonal_(-float("inf"))
    neighbours = sim.topk(10, dim=1).indices  # (N, 10)
    return float((labels[neighbours] == labels[:, None]).float().mean())


def ck(args: list[str], log: Path) -> float:
    """Run `contrastkit ARGS`, its output to `log`; the wall time in seconds."""
    start = time.perf_counter()
    with log.open("w") as out:
        subprocess.run([sys.executable, "-m", "contrastkit", *args], stdout=out,
                       stderr=subprocess.STDOUT, check=True)  # fmt: skip
    return time.perf_counter() - start


def search_rows(run: Path, folder: Path, work: Path) -> dict[str, Any]:
    """`index` the run's data and `search` it with the first picture of the folder."""
    query = sorted(p for p in sorted(folder.iterdir())[0].iterdir())[0]
    ck(["index", "--run", str(run)], work / "index.log")
    ck(["search", "--run", str(run), "--query", str(query), "--k", "10"], work / "search.log")
    return {"query": str(query.relative_to(folder)),
            "answer": (work / "search.log").read_text().strip().splitlines()[-12:]}  # fmt: skip


def precision_rows(run: Path) -> dict[str, float]:
    """Precision@10 over all the folder's pictures for the four rows."""
    cfg, modality, method = load_run(run)
    data = modality.data
    images = torch.cat([data.x_train, data.x_test])
    labels = torch.cat([data.y_train, data.y_test])
    channels, side = int(images.shape[1]), int(images.shape[2])
    torch.manual_seed(cfg.seed)  # the random-init baseline's seed
    random_init = build_encoder(cfg.model.random_init(), channels, image_size=side)
    pretrained = build_encoder(cfg.model.pretrained_frozen(), channels, image_size=side)
    vectors = {
        "raw": to_float(images).flatten(1),
        "random_init": embed_images(random_init, images),
        "pretrained": embed_images(pretrained, images),
        "run": embed_images(method.encoder, images),
    }
    return {name: precision_at_10(z, labels) for name, z in vectors.items()}


def bench_folder(name: str, args: argparse.Namespace) -> dict[str, Any]:
    folder = make_folder(name, args.work / "folders")
    run = args.work / "runs" / name
    sets = [x for s in args.set for x in ("--set", s)]
    wall = ck(["train", "--data", str(folder), "--out", str(run), "--overwrite",
               "--no-progress", *sets], args.work / f"{name}.train.log")  # fmt: skip
    metrics = json.loads((run / "metrics.json").read_text())
    config = (run / "config.yaml").read_text()
    p10 = precision_rows(run)
    rows = {}
    for key, _label in ROWS:
        block = metrics["eval"] if key == "run" else metrics["baselines"].get(key, {})
        rows[key] = {
            "knn_top1": block.get("knn_top1"),
            "fewshot_top1_mean": block.get("fewshot", {}).get("linear_top1_mean"),
            "fewshot_top1_std": block.get("fewshot", {}).get("linear_top1_std"),
            "precision_at_10": p10[key],
        }
    log = (args.work / f"{name}.train.log").read_text().splitlines()
    return {
        "folder": name,
        "pictures": sum(1 for p in folder.rglob("*") if p.is_file()),
        "train_to_table_s": wall,
        "train_time_s": metrics["train_time_s"],
        "load_average_after": load_average(),
        "chosen": [line for line in log if line.startswith("chose ")],
        "verdict": next((line for line in log if "pretrained encoder as loaded" in line), None),
        "rows": rows,
        "search": search_rows(run, folder, args.work),
        "config": config,
    }


def cells(row: dict[str, Any]) -> list[str]:
    """kNN, few-label (mean±std) and precision@10 of one row, in %."""

    def pct(v: float | None) -> str:
        return "-" if v is None else f"{100 * v:.1f}"

    few = pct(row["fewshot_top1_mean"])
    if row["fewshot_top1_std"] is not None:
        few += f"±{100 * row['fewshot_top1_std']:.1f}"
    return [pct(row["knn_top1"]), few, pct(row["precision_at_10"])]


def show(results: list[dict[str, Any]]) -> None:
    """A table per folder with the run's verdict line, then all of them as Markdown."""
    console = Console(width=120)
    lines = ["| folder | row | kNN | few-label | P@10 |", "|---|---|---|---|---|"]
    for result in results:
        title = (f"{result['folder']} ({result['pictures']}), train {result['train_time_s']:.0f}"
                 f" s, train -> table {result['train_to_table_s']:.0f} s")  # fmt: skip
        table = Table(title=title)
        for header in ("row", "kNN", "few-label", "P@10"):
            table.add_column(header)
        for i, (key, label) in enumerate(ROWS):
            table.add_row(label, *cells(result["rows"][key]))
            lines.append(f"| {title if i == 0 else ''} | {label} | "
                         + " | ".join(cells(result["rows"][key])) + " |")  # fmt: skip
        console.print(table)
        console.print(result["verdict"] or "")
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="folders, runs and logs")
    parser.add_argument("--folders", nargs="+", default=["clipart", "icons", "fashion"])
    parser.add_argument("--set", action="append", default=[], help="KEY=VALUE for train")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/pretrained.json"))
    args = parser.parse_args()
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    torch.set_num_threads(args.threads)
    header = run_header(args)
    results = [bench_folder(name, args) for name in args.folders]
    write_json_atomic(args.out, {**header, "folders": results})
    show(results)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
