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
        directions = [k for k, v in report.items() if isinstance(v, dict) and "mrr" in v]
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


def language_table(block: dict[str, Any], title: str) -> Table | None:
    """Rows: test split x spoken language; columns: Recall@1 (%) against the texts of each
    language and its chance level (from `<modality>_to_text_by_language`); None when no
    split has texts in several languages.

    Args:
        block: The `crossmodal` block of metrics.json.
    """
    rows = [
        (split, spoken, cells)
        for split, report in block.items()
        if isinstance(report, dict)
        for key, table in report.items()
        if key.endswith("_to_text_by_language")
        for spoken, cells in table.items()
    ]
    if not rows:
        return None
    languages = sorted({lang for _, _, cells in rows for lang in cells})
    table = Table(title=title)
    table.add_column("split")
    table.add_column("spoken")
    for lang in languages:
        table.add_column(f"to {lang}", justify="right")
    table.add_column("chance", justify="right")
    for split, spoken, cells in rows:
        table.add_row(
            split,
            spoken,
            *(f"{100 * cells[x]['recall_at_1']:.1f}" if x in cells else "-" for x in languages),
            f"{100 * cells[spoken]['chance_recall_at_1']:.1f}" if spoken in cells else "-",
        )
    return table
