"""Side-by-side 2-D maps of embeddings coloured by class (e.g. random-init vs trained)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure


def class_colors(num_classes: int) -> list[tuple[float, ...]]:
    """Distinct colours for class indices (tab10, or tab20 beyond ten classes; reused
    cyclically beyond twenty)."""
    palette = colormaps["tab10" if num_classes <= 10 else "tab20"].colors  # type: ignore[attr-defined]
    return [tuple(palette[i % len(palette)]) for i in range(num_classes)]


def embedding_maps_figure(
    panels: Sequence[tuple[str, np.ndarray]],
    labels: np.ndarray | None,
    class_names: Sequence[str],
    *,
    title: str,
) -> Figure:
    """One scatter panel per `(title, xy)`, points coloured by class, one shared legend.

    Args:
        panels: `(panel title, xy)` pairs, xy Shape: (N, 2), all for the same N items.
        labels: Shape: (N,), class index per point; None draws every point in one colour.
        class_names: Name per class index.
    """
    fig = Figure(figsize=(4.4 * len(panels) + 1.3, 4.6), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    colors = class_colors(len(class_names))
    for ax, (name, xy) in zip(axes, panels, strict=True):
        if xy.ndim != 2 or xy.shape[1] != 2:
            raise ValueError(f"panel {name!r}: xy must be (N, 2), got {xy.shape}")
        if labels is not None and labels.shape != (xy.shape[0],):
            raise ValueError(f"labels must be ({xy.shape[0]},), got {labels.shape}")
        point_colors = [colors[c] for c in labels] if labels is not None else "tab:blue"
        ax.scatter(xy[:, 0], xy[:, 1], c=point_colors, s=8, alpha=0.8, linewidths=0)
        ax.set_title(name)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("dimension 1")
        ax.set_ylabel("dimension 2")
    if labels is not None:
        handles = [
            axes[0].scatter([], [], color=colors[i], s=30, label=str(class_name))
            for i, class_name in enumerate(class_names)
            if (labels == i).any()
        ]
        fig.legend(handles=handles, loc="outside right center", title="class", frameon=False)
    fig.suptitle(title)
    return fig
