"""A modality's table of one `metrics.json` block: `MetricsTable.of_block` hands its table
function the block alone and the title the run's name prefixes."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from contrastkit.modalities.metrics_table import MetricsTable


def test_of_block_gives_the_block_and_the_shown_title() -> None:
    seen: list[tuple[dict[str, Any], str]] = []

    def make_block(block: dict[str, Any], title: str) -> Table:
        seen.append((block, title))
        return Table(title=title)

    table = MetricsTable.of_block("recommend", "Recommendation", "recommendation (%)", make_block)
    metrics = {"recommend": {"model": {"recall_at_10": 0.5}}, "eval": {"knn_top1": 0.9}}
    shown = table.render(metrics, "runs/a")
    assert seen == [({"model": {"recall_at_10": 0.5}}, "runs/a: recommendation (%)")]
    assert shown is not None and shown.title == "runs/a: recommendation (%)"
    assert table.render(metrics) is not None and seen[-1][1] == "recommendation (%)"
