"""The tables only some runs have, for the CLI and the report alike: cross-modal
retrieval (pairs), the label budgets (tables), the held-out task (text) and the
recommendation table (interactions)."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from contrastkit.eval.crossmodal_table import crossmodal_table, language_table
from contrastkit.eval.recommend_table import recommend_table
from contrastkit.eval.tabular_table import tabular_table
from contrastkit.eval.text_table import text_metrics_table


def modality_tables(metrics: dict[str, Any], name: str = "") -> list[tuple[str, str, Table]]:
    """`(metrics.json block, heading, table)` for each such block in `metrics`, in page
    order (the crossmodal block's retrieval by language is `crossmodal_languages`); `name`
    (a run) prefixes the table titles."""
    prefix = f"{name}: " if name else ""
    tables = []
    if "crossmodal" in metrics:
        table = crossmodal_table(metrics["crossmodal"], title=f"{prefix}cross-modal (%)")
        tables.append(("crossmodal", "Cross-modal retrieval", table))
        by_language = language_table(
            metrics["crossmodal"], title=f"{prefix}R@1 by spoken language and text language (%)"
        )
        if by_language is not None:
            tables.append(("crossmodal_languages", "Retrieval by language", by_language))
    if "tabular" in metrics:
        table = tabular_table(metrics["tabular"], title=f"{prefix}few-label top-1 (%)")
        tables.append(("tabular", "Label budgets (tables)", table))
    if metrics.get("text", {}).get("task") is not None:
        table = text_metrics_table(metrics, title=f"{prefix}held-out text task")
        tables.append(("text", "Text retrieval, base model and fine-tuned", table))
    if "recommend" in metrics:
        table = recommend_table(metrics["recommend"], title=f"{prefix}recommendation (%)")
        tables.append(("recommend", "Recommendation (leave-last-out)", table))
    return tables
