"""The table printed at the end of a text run: held-out retrieval, base model vs trained."""

from __future__ import annotations

from typing import Any

from rich.table import Table

COLUMNS = (
    ("recall_at_1", "R@1"),
    ("recall_at_5", "R@5"),
    ("recall_at_10", "R@10"),
    ("mrr", "MRR"),
    ("map", "mAP"),
)


def text_metrics_table(metrics: dict[str, Any], title: str) -> Table | None:
    """Rows: the trained encoder and the base model; columns: R@1, R@5, R@10, MRR, mAP (%)
    and the encoding speed. None for a run without a held-out task (the health of its
    lines is shown instead)."""
    text = metrics.get("text", {})
    task = text.get("task")
    if task is None:
        return None
    table = Table(title=f"{title}: {task}")
    table.add_column("model")
    for _, header in COLUMNS:
        table.add_column(header, justify="right")
    table.add_column("encode sentences/s", justify="right")
    for key, name in (
        ("trained", f"{metrics.get('method', 'trained')} (this run)"),
        ("base", "base model"),
    ):
        row = text.get(key)
        if row is not None:
            table.add_row(
                name,
                *(f"{100 * row[k]:.1f}" if k in row else "-" for k, _ in COLUMNS),
                f"{row['encode_sentences_per_s']:.0f}",
                style="bold" if key == "trained" else None,
            )
    return table
