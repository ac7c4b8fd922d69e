"""`contrastkit report`: build `report.html` for a run directory."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape
from pathlib import Path
from typing import Any

from contrastkit.atomic import read_json, write_text_atomic
from contrastkit.errors import UserError
from contrastkit.modalities.registry import metrics_tables
from contrastkit.report.figures import (
    FigureEntry,
    confusion_entry,
    curves_entry,
    map_entry,
    neighbours_entry,
)
from contrastkit.report.html_table import examples_html, rich_table_html
from contrastkit.report.page import (
    classification_section,
    figure_html,
    render_page,
    section,
    suite_section,
)
from contrastkit.report.views import RunViews, run_views
from contrastkit.rundir import LOG, METRICS, REPORT, read_log
from contrastkit.viz.encode import png_bytes_uri


def modality_sections(run: Path, metrics: dict[str, Any]) -> list[str]:
    """The page's sections for what only some runs measure, as their modalities declare
    them (cross-modal retrieval with the similarity picture `train` saved, the label
    budgets of a table, a held-out text task, recommendation)."""
    sections = []
    for shown, table in metrics_tables(metrics):
        parts = [rich_table_html(table)]
        picture = shown.picture
        if picture is not None:
            png = run / str(metrics[shown.block].get(picture.key, ""))
            entry = FigureEntry(
                picture.name,
                picture.title,
                picture.caption,
                uri=png_bytes_uri(png.read_bytes()) if png.is_file() else None,
                note=f"{png} not found",
            )
            parts.append(figure_html(entry))
        sections.append(section(shown.heading, *parts))
    return sections


def report_run(
    run: Path,
    *,
    projections: Sequence[str] = ("pca", "umap"),
    log: Callable[[str], None] = print,
) -> Path:
    """Write `run/report.html` atomically and return its path.

    Needs `metrics.json`; `log.jsonl` and the checkpoint add curves and pictures, and
    whatever is missing becomes a note on the page instead of an error.
    """
    if not run.is_dir():
        raise UserError(f"--run {run}: no such run directory")
    metrics = read_json(run / METRICS)
    records = read_log(run / LOG)
    log("drawing figures")
    drawn = run_views(run)
    name = run.name or str(run)
    sections = [suite_section(name, metrics)] if drawn.suite_table else []
    sections += modality_sections(run, metrics)
    sections.append(section("Training", figure_html(curves_entry(records))))
    sections += figure_sections(metrics, drawn, projections)
    if drawn.examples is not None:
        sections.append(section(drawn.examples.title, examples_html(drawn.examples)))
    path = run / REPORT
    write_text_atomic(path, render_page(name=name, metrics=metrics, sections=sections))
    return path


def figure_sections(
    metrics: dict[str, Any], drawn: RunViews, projections: Sequence[str]
) -> list[str]:
    """The confusion matrix when the run has one, the maps of the embeddings (or a note
    saying why they are missing), the picture grid of nearest neighbours for pictures."""
    views = drawn.views
    class_names = views.class_names if views is not None else []
    sections = []
    if metrics.get("eval", {}).get("classification", {}).get("linear"):
        confusion = confusion_entry(metrics, class_names)
        sections.append(classification_section(confusion, metrics, class_names))
    heading = "Feature space before and after training"
    if views is not None:
        seed = int(metrics.get("seed", 0))
        maps = [figure_html(map_entry(views, p, seed)) for p in projections]
        sections.append(section(heading, *maps))
    elif drawn.note:
        sections.append(section(heading, f'<p class="note">{escape(drawn.note)}</p>'))
    if views is not None and views.images is not None:
        sections.append(section("Nearest neighbours", figure_html(neighbours_entry(views))))
    return sections
