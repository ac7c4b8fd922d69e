"""The side-by-side metric table of runs and their baselines (terminal and HTML).

`comparison_rows` turns `metrics.json` contents into rows of cells; each cell remembers the
dotted `metrics.json` key and the exact value it shows, so the HTML report can carry them
and a test can check the page against the file. Rich renders the same rows in the terminal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich import box
from rich.table import Table


@dataclass(frozen=True)
class Column:
    """One metric: its header, where it lives in a model's block, how it is shown."""

    header: str
    section: str  # "eval" (also the baselines' blocks) or "health" (trained runs only)
    path: str  # dotted key inside the section
    percent: bool = True


COLUMNS = (
    Column("kNN", "eval", "knn_top1"),
    Column("linear", "eval", "linear_top1"),
    Column("F1", "eval", "classification.linear.f1_macro"),
    Column("few-label", "eval", "fewshot.linear_top1_mean"),
    Column("R@1", "eval", "retrieval.recall_at_1"),
    Column("mAP@R", "eval", "retrieval.map_at_r"),
    Column("NMI", "eval", "nmi"),
    Column("AUROC", "eval", "anomaly.auroc"),
    Column("RankMe", "health", "rankme", percent=False),
)
LEGEND = (
    "% except RankMe. kNN, linear: top-1 accuracy of the weighted kNN and the linear probe; "
    "F1: macro F1 of the linear probe; few-label: linear probe on k labels per class, mean ± "
    "std over draws; R@1, mAP@R: test-set retrieval; NMI: k-means vs classes; AUROC: "
    "kNN-distance anomaly detection, each class normal in turn; RankMe: effective rank. "
    "'-': not measured for that model."
)

BASELINES = (
    ("raw", "raw input"),
    ("random_init", "random-init encoder"),
    ("pretrained", "pretrained, not fine-tuned"),
    ("supervised_fewshot", "supervised, few labels"),
)


@dataclass(frozen=True)
class Cell:
    """What a table cell shows; `key` and `value` name its source in `metrics.json`."""

    text: str
    key: str | None = None
    value: float | None = None


@dataclass(frozen=True)
class Row:
    name: str
    cells: tuple[Cell, ...]
    is_run: bool


def _get(block: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(block, dict) or part not in block:
            return None
        block = block[part]
    return block


def _cell(block: Any, column: Column, prefix: str) -> Cell:
    value = _get(block, column.path)
    if not isinstance(value, int | float):
        return Cell("-")
    key = f"{prefix}.{column.path}"
    text = f"{100 * value:.1f}" if column.percent else f"{value:.1f}"
    if column.path == "fewshot.linear_top1_mean":
        std = _get(block, "fewshot.linear_top1_std")
        text += f"±{100 * std:.1f}" if isinstance(std, int | float) else ""
    return Cell(text, key, float(value))


def _model_row(name: str, metrics: dict[str, Any], prefix: str, *, is_run: bool) -> Row:
    cells = []
    for column in COLUMNS:
        if column.section == "health":
            block, where = (metrics.get("health"), "health") if is_run else (None, "")
        else:
            block, where = _get(metrics, prefix), prefix
        cells.append(_cell(block, column, where))
    return Row(name, tuple(cells), is_run)


def _supervised_row(name: str, block: dict[str, Any], prefix: str) -> Row:
    cells = [Cell("-") for _ in COLUMNS]
    mean, std = block.get("top1_mean"), block.get("top1_std")
    if isinstance(mean, int | float):
        at = [c.path for c in COLUMNS].index("fewshot.linear_top1_mean")
        text = f"{100 * mean:.1f}" + (f"±{100 * std:.1f}" if isinstance(std, int | float) else "")
        cells[at] = Cell(text, f"{prefix}.top1_mean", float(mean))
    return Row(name, tuple(cells), False)


def comparison_rows(runs: list[tuple[str, dict[str, Any]]]) -> list[Row]:
    """One row per run, then the baselines of each distinct (data, seed) among the runs.

    Args:
        runs: `(name, metrics.json contents)` pairs, in the order to show.
    """
    rows = [_model_row(name, metrics, "eval", is_run=True) for name, metrics in runs]
    groups: dict[tuple[Any, Any], dict[str, Any]] = {}
    for _, metrics in runs:
        if metrics.get("baselines"):
            groups.setdefault((metrics.get("data"), metrics.get("seed")), metrics)
    for (data, seed), metrics in groups.items():
        suffix = f" ({data}, seed {seed})" if len(groups) > 1 else ""
        for key, label in BASELINES:
            block = metrics["baselines"].get(key)
            if not isinstance(block, dict) or "skipped" in block:
                continue  # the legend says why a skipped baseline has no row
            prefix = f"baselines.{key}"
            if key == "supervised_fewshot":
                rows.append(_supervised_row(label + suffix, block, prefix))
            else:
                rows.append(_model_row(label + suffix, metrics, prefix, is_run=False))
    return rows


def has_values(runs: list[tuple[str, dict[str, Any]]]) -> bool:
    """Whether the comparison table of `runs` measures anything against labels: a run with
    none (a recommender, a text run without a held-out task) would fill its RankMe alone,
    which the health line already says."""
    return any(
        cell.value is not None
        for row in comparison_rows(runs)
        for column, cell in zip(COLUMNS, row.cells, strict=True)
        if column.section == "eval"
    )


def legend(runs: list[tuple[str, dict[str, Any]]]) -> str:
    """The table's legend, naming the labels per class of the few-label probe, what each
    run could not measure (its `eval.skipped`) and why a baseline has no row (its
    `skipped`)."""
    per_class = {_get(m, "eval.fewshot.labels_per_class") for _, m in runs} - {None}
    k = str(per_class.pop()) if len(per_class) == 1 else "k"
    text = LEGEND.replace("on k labels per class", f"on {k} labels per class")
    skipped = [f"{name}: {why}" for name, m in runs if (why := _get(m, "eval.skipped"))]
    text += "".join(f" Not measured, {line}." for line in skipped)
    for key, label in BASELINES:
        reasons = {_get(m, f"baselines.{key}.skipped") for _, m in runs} - {None}
        text += "".join(f" No '{label}' row: {reason}." for reason in sorted(reasons))
    return text


def headers() -> list[str]:
    """Column headers: the model, then one per metric."""
    return ["model"] + [c.header for c in COLUMNS]


def comparison_table(runs: list[tuple[str, dict[str, Any]]], *, title: str) -> Table:
    """A rich table of `comparison_rows`; values in % except RankMe."""
    table = Table(
        title=title,
        caption=legend(runs),
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        padding=(0, 0, 0, 1),
        pad_edge=False,
    )
    table.add_column("model", min_width=12, overflow="fold")
    for header in headers()[1:]:
        table.add_column(header, justify="right", no_wrap=True)
    for row in comparison_rows(runs):
        table.add_row(row.name, *(c.text for c in row.cells), style="bold" if row.is_run else None)
    return table
