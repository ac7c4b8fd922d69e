"""The cross-modal table printed by `train` and `eval` for two-tower runs."""

from __future__ import annotations

from typing import Any

from rich.table import Table


def crossmodal_table(block: dict[str, Any], title: str) -> Table:
    """Rows: test split x direction; columns: Recall@1/5/10, MRR, chance R@1, zero-shot (%).

    Args:
        block: The `crossmodal` block of metrics.json.
    """
    table = Table(title=title)
    for col in ("split", "direction", "R@1", "R@5", "R@10", "MRR", "chance R@1", "zero-shot"):
        table.add_column(col, justify="left" if col in ("split", "direction") else "right")
    for split, report in block.items():
        if not isinstance(report, dict):
            continue
        directions = [k for k, v in report.items() if isinstance(v, dict)]
        for direction in directions:
            r = report[direction]
            zero_shot = report.get("zero_shot_top1")
            table.add_row(
                split,
                direction.replace("_", " "),
                *(f"{100 * r[k]:.1f}" for k in ("recall_at_1", "recall_at_5", "recall_at_10")),
                f"{100 * r['mrr']:.1f}",
                f"{100 * r['chance_recall_at_1']:.1f}",
                "-" if zero_shot is None else f"{100 * zero_shot:.1f}",
            )
    return table
