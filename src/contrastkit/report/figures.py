"""The report's figures, each as a data URI, or a note saying why it is missing."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from contrastkit.eval.knn import nearest_neighbours
from contrastkit.modalities.base import EmbeddingViews
from contrastkit.viz.confusion import confusion_figure
from contrastkit.viz.curves import curves_figure
from contrastkit.viz.embedding_map import embedding_maps_figure
from contrastkit.viz.encode import png_data_uri
from contrastkit.viz.neighbours import neighbour_grid_figure
from contrastkit.viz.projection import pca_2d, umap_2d

PROJECTIONS: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
    "pca": lambda z, _seed: pca_2d(z),
    "umap": lambda z, seed: umap_2d(z, seed=seed),
}
MIN_POINTS = {"pca": 3, "umap": 5}
"""The fewest test items each map is drawn from (a page with fewer says so instead)."""


@dataclass(frozen=True)
class FigureEntry:
    """One figure of the page: `uri` is a PNG data URI, or None with `note` saying why."""

    id: str
    title: str
    caption: str
    uri: str | None = None
    note: str = ""


def curves_entry(records: list[dict[str, Any]]) -> FigureEntry:
    title = "Training curves"
    if not any("loss" in r and "step" in r for r in records):
        return FigureEntry("curves", title, "", note="log.jsonl holds no loss records")
    return FigureEntry(
        "curves",
        title,
        "Loss and learning rate per logged step (log.jsonl), and any health measure the "
        "run logged.",
        png_data_uri(curves_figure(records)),
    )


def confusion_entry(metrics: dict[str, Any], class_names: Sequence[str]) -> FigureEntry:
    title = "Confusion matrix (linear probe, test split)"
    block = metrics.get("eval", {}).get("classification", {}).get("linear")
    if not block:
        return FigureEntry("confusion", title, "", note="no classification metrics in metrics.json")
    names = list(class_names) or [str(i) for i in range(len(block["confusion"]))]
    return FigureEntry(
        "confusion",
        title,
        "Rows: true class; columns: predicted class; colour: share of the row; text: count.",
        png_data_uri(confusion_figure(block["confusion"], names, title="linear probe")),
    )


def map_entry(views: EmbeddingViews, projection: str, seed: int) -> FigureEntry:
    title = f"Test embeddings, {projection.upper()}: random-init vs trained encoder"
    caption = (
        "Each point is a test item, coloured by its class. Left: the same encoder before "
        "training (random weights); right: after contrastive training."
    )
    needed = MIN_POINTS[projection]
    if len(views.trained) < needed:
        return FigureEntry(
            f"map-{projection}",
            title,
            "",
            note=f"{len(views.trained)} test items: a {projection.upper()} map needs {needed}",
        )
    try:
        project = PROJECTIONS[projection]
        panels = []
        if views.random_init is not None:
            panels.append(("random-init encoder", project(views.random_init, seed)))
        panels.append(("trained encoder", project(views.trained, seed)))
    except ImportError:
        return FigureEntry(
            f"map-{projection}",
            title,
            "",
            note=f"{projection} needs umap-learn: pip install 'contrastkit[viz]'",
        )
    fig = embedding_maps_figure(panels, views.labels, views.class_names, title=projection.upper())
    return FigureEntry(f"map-{projection}", title, caption, png_data_uri(fig))


def neighbours_entry(views: EmbeddingViews, *, queries: int = 6, k: int = 8) -> FigureEntry:
    title = "Nearest neighbours (trained encoder, cosine, test split)"
    if views.images is None:
        return FigureEntry("neighbours", title, "", note="the items are not images: no image grid")
    if views.labels is not None:  # one query per class, the first test item of each
        picks = [int(np.flatnonzero(views.labels == c)[0]) for c in np.unique(views.labels)]
    else:
        picks = list(range(len(views.trained)))
    picks = picks[:queries]
    z = torch.from_numpy(views.trained)
    (_, idx), *_ = nearest_neighbours(z, z, k=k, exclude_self=True, chunk_size=len(z))
    fig = neighbour_grid_figure(
        views.images,
        picks,
        idx[picks].numpy(),
        views.labels,
        views.class_names,
        title="query, then its nearest test items (green frame: same class, red: different)",
    )
    return FigureEntry(
        "neighbours",
        title,
        "Each row: a query image, then the most similar other test images, nearest first.",
        png_data_uri(fig),
    )
