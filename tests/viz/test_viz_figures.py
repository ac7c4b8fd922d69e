"""Figures render to PNG with the expected content (titles, legend entries, cells)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from contrastkit.viz.confusion import confusion_figure
from contrastkit.viz.curves import curves_figure, health_keys
from contrastkit.viz.embedding_map import embedding_maps_figure
from contrastkit.viz.encode import figure_png, png_data_uri
from contrastkit.viz.neighbours import neighbour_grid_figure
from contrastkit.viz.projection import pca_2d


def _png_size(fig: object) -> tuple[int, int]:
    return Image.open(io.BytesIO(figure_png(fig))).size  # type: ignore[arg-type]


def test_curves_have_a_panel_per_changing_health_key() -> None:
    records = [{"step": s, "epoch": 0, "loss": 5 - s / 50, "lr": 1e-3} for s in range(100)]
    records[50].update(rankme=12.0, dim=128)
    records[60].update(rankme=14.0, dim=128)  # dim never changes: no panel
    assert health_keys(records) == ["rankme"]
    fig = curves_figure(records)
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible() and ax.axison]
    assert titles == ["training loss", "learning rate", "rankme"]
    assert _png_size(fig)[0] > 300


def test_confusion_figure_annotates_counts() -> None:
    cm = [[5, 1], [0, 7]]
    fig = confusion_figure(cm, ["a", "b"], title="t")
    texts = sorted(t.get_text() for t in fig.axes[0].texts)
    assert texts == ["1", "5", "7"]
    with pytest.raises(ValueError, match=r"\(C, C\)"):
        confusion_figure(cm, ["a"], title="t")


def test_maps_share_one_legend_of_present_classes() -> None:
    rng = np.random.default_rng(0)
    labels = np.array([0, 1, 2] * 10)
    z = rng.standard_normal((30, 5))
    xy = pca_2d(z)
    assert xy.shape == (30, 2)
    fig = embedding_maps_figure(
        [("before", xy), ("after", xy)], labels, ["zero", "one", "two", "three"], title="PCA"
    )
    legend_texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend_texts == ["zero", "one", "two"]  # class 3 has no point
    assert [ax.get_title() for ax in fig.axes] == ["before", "after"]
    assert png_data_uri(fig).startswith("data:image/png;base64,")


def test_unlabeled_map_has_no_legend() -> None:
    xy = np.random.default_rng(0).standard_normal((10, 2))
    fig = embedding_maps_figure([("trained", xy)], None, [], title="PCA")
    assert fig.legends == []


def test_neighbour_grid_frames_by_class() -> None:
    images = np.random.default_rng(0).integers(0, 255, (6, 1, 8, 8), dtype=np.uint8)
    labels = np.array([0, 0, 1, 1, 0, 1])
    fig = neighbour_grid_figure(
        images, [0, 2], np.array([[1, 2], [3, 0]]), labels, ["a", "b"], title="t"
    )
    axes = np.array(fig.axes).reshape(2, 3)
    colors = [[p.get_edgecolor() for p in ax.patches] for ax in axes[:, 1:].ravel()]
    green, red = (
        (0.17254901960784313, 0.6274509803921569, 0.17254901960784313, 1.0),
        (0.8392156862745098, 0.15294117647058825, 0.1568627450980392, 1.0),
    )
    assert colors == [[green], [red], [green], [red]]
    assert _png_size(fig)[1] > 100
