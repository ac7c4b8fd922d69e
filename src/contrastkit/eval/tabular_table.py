"""The few-label comparison table of a tabular run (the `tabular` block of metrics.json)."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from contrastkit.eval.tabular_probe import BOOSTING_CATEGORIES

MODELS = (("embedding", "probe on embedding"), ("raw", "probe on raw"), ("boosting", "boosting"))


def _cell(stats: dict[str, Any], best: float) -> str:
    text = f"{100 * stats['mean']:.1f} ± {100 * stats['std']:.1f}"
    return f"[bold]{text}[/]" if stats["mean"] >= best else text


def tabular_table(block: dict[str, Any], title: str) -> Table:
    """Rows: labels per class (then all labels); columns: the three models, test top-1 %
    as mean ± std over the draws; the best mean of each row in bold."""
    ordinal = block.get("columns", {}).get("boosting_ordinal") or []
    caption = (
        f"boosting takes {', '.join(ordinal)} as ordinal codes: it takes at most "
        f"{BOOSTING_CATEGORIES} categories"
        if ordinal
        else None
    )
    table = Table(title=title, caption=caption)
    table.add_column("labels / class", justify="right")
    for _, name in MODELS:
        table.add_column(name, justify="right")
    for budget, row in block["budgets"].items():
        best = max(row[key]["mean"] for key, _ in MODELS)
        table.add_row(budget, *(_cell(row[key], best) for key, _ in MODELS))
    full = block["all_labels"]
    best = max(full[key] for key, _ in MODELS)
    table.add_row(
        "all",
        *(
            f"[bold]{100 * full[key]:.1f}[/]" if full[key] >= best else f"{100 * full[key]:.1f}"
            for key, _ in MODELS
        ),
    )
    return table
