"""The metrics table printed at the end of `train` and by `eval`."""

from __future__ import annotations

from typing import Any

from rich.table import Table


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def _fewshot(block: dict[str, Any] | None) -> str:
    if not block:
        return "-"
    return f"{100 * block['linear_top1_mean']:.1f} ± {100 * block['linear_top1_std']:.1f}"


def metrics_table(metrics: dict[str, Any], title: str) -> Table:
    """Rows: the trained encoder and each baseline; columns: kNN, linear, few-label (%)."""
    ev = metrics.get("eval", {})
    labels = ev.get("fewshot", {}).get("labels_per_class", "k")
    table = Table(title=title)
    table.add_column("model")
    table.add_column("kNN top-1", justify="right")
    table.add_column("linear top-1", justify="right")
    table.add_column(f"few-label linear ({labels}/class)", justify="right")
    table.add_row(
        f"{metrics.get('method', 'trained')} (this run)",
        _pct(ev.get("knn_top1")),
        _pct(ev.get("linear_top1")),
        _fewshot(ev.get("fewshot")),
        style="bold",
    )
    base = metrics.get("baselines", {})
    raw_name = "raw features" if "tabular" in metrics else "raw pixels"
    for key, name in (("raw", raw_name), ("random_init", "random-init encoder")):
        if key in base:
            b = base[key]
            table.add_row(name, _pct(b["knn_top1"]), _pct(b["linear_top1"]), _fewshot(b["fewshot"]))
    if "supervised_fewshot" in base:
        s = base["supervised_fewshot"]
        table.add_row(
            "supervised from scratch",
            "-",
            "-",
            f"{100 * s['top1_mean']:.1f} ± {100 * s['top1_std']:.1f}",
        )
    return table
