"""The tables of `metrics.json` blocks that only some runs have (cross-modal retrieval, label
budgets, a held-out text task, recommendation), declared by the modality that writes the
block (`Modality.tables`). The CLI and the report show every declared table whose block a
run's metrics hold (`modalities.registry.metrics_tables`), so a new modality's own metrics
are shown without a line outside its package."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.table import Table


@dataclass(frozen=True)
class TablePicture:
    """A picture training wrote for the block, shown under its table in the report.

    Attributes:
        name: The figure's name on the page.
        key: The block's key that holds the PNG's path, relative to the run directory.
        title: The figure's title.
        caption: What the picture shows.
    """

    name: str
    key: str
    title: str
    caption: str


@dataclass(frozen=True)
class MetricsTable:
    """One block's table.

    Attributes:
        block: The `metrics.json` key it shows.
        heading: The report's section heading.
        title: The table's title (after the run's name).
        make: (the whole metrics, title) -> the table, or None when the block holds
            nothing this table shows (e.g. no languages to compare).
        picture: A picture of the block for the report, or None.
    """

    block: str
    heading: str
    title: str
    make: Callable[[dict[str, Any], str], Table | None]
    picture: TablePicture | None = None

    @classmethod
    def of_block(
        cls,
        block: str,
        heading: str,
        title: str,
        make_block: Callable[[dict[str, Any], str], Table | None],
        *,
        picture: TablePicture | None = None,
    ) -> MetricsTable:
        """The table made from its block alone: `make_block(metrics[block], title)`."""

        def make(metrics: dict[str, Any], shown_title: str) -> Table | None:
            return make_block(metrics[block], shown_title)

        return cls(block, heading, title, make, picture)

    def render(self, metrics: dict[str, Any], name: str = "") -> Table | None:
        """The table of `metrics` (which hold `block`), or None when it has nothing to
        show; `name` (a run) prefixes the title."""
        return self.make(metrics, f"{name}: {self.title}" if name else self.title)
