"""What the report's pictures and examples need from a run's model: the modality's test-set
embeddings of the trained and of a random-init encoder (`Modality.report_views`) and its
queries with their nearest items as text (`Modality.report_examples`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from contrastkit.modalities.base import EmbeddingViews, Examples
from contrastkit.run import load_run
from contrastkit.rundir import CHECKPOINT


@dataclass(frozen=True)
class RunViews:
    """What the report draws from a run's model.

    Attributes:
        views: The embeddings for the maps and the picture grid, or None.
        note: Why there are no views ('' when maps do not apply to the run's data).
        examples: Queries with their nearest items as text, or None.
        suite_table: Whether the suite's comparison table measures the run
            (`Modality.suite_table`).
    """

    views: EmbeddingViews | None
    note: str
    examples: Examples | None
    suite_table: bool = True


def run_views(run: Path) -> RunViews:
    """The views of a run directory, or none and a note saying why."""
    if not (run / CHECKPOINT).is_file():
        note = f"{run / CHECKPOINT} not found: no embedding maps or neighbours"
        return RunViews(None, note, None)
    _, modality, method = load_run(run)
    views, note = modality.report_views(method)
    return RunViews(views, note, modality.report_examples(method), modality.suite_table)
