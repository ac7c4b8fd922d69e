"""What the report's pictures need from a run's model: the modality's test-set embeddings of
the trained and of a random-init encoder (`Modality.report_views`)."""

from __future__ import annotations

from pathlib import Path

from contrastkit.modalities.base import EmbeddingViews
from contrastkit.run import load_run
from contrastkit.rundir import CHECKPOINT


def run_views(run: Path) -> tuple[EmbeddingViews | None, str]:
    """The views of a run directory, or None and a note saying why there are none."""
    if not (run / CHECKPOINT).is_file():
        return None, f"{run / CHECKPOINT} not found: no embedding maps or neighbour grids"
    _, modality, method = load_run(run)
    return modality.report_views(method)
