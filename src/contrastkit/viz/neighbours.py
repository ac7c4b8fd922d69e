"""Nearest-neighbour image grids: each row a query image and the items nearest to it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle


def _as_image(image: np.ndarray) -> np.ndarray:
    """(C, H, W) uint8/float -> (H, W) or (H, W, 3) for imshow."""
    if image.ndim != 3 or image.shape[0] not in (1, 3):
        raise ValueError(f"images must be (C, H, W) with C in (1, 3), got {image.shape}")
    return image[0] if image.shape[0] == 1 else np.moveaxis(image, 0, -1)


def neighbour_grid_figure(
    images: np.ndarray,
    queries: Sequence[int],
    neighbours: np.ndarray,
    labels: np.ndarray | None,
    class_names: Sequence[str],
    *,
    title: str,
) -> Figure:
    """A grid: column 0 the query, then its neighbours nearest first. With labels, each
    neighbour is framed green when its class equals the query's and red when not.

    Args:
        images: Shape: (N, C, H, W), C in (1, 3).
        queries: Q indices into `images`.
        neighbours: Shape: (Q, K), indices into `images`, nearest first.
        labels: Shape: (N,) or None.
        class_names: Name per class index (used in the captions).
    """
    if neighbours.ndim != 2 or neighbours.shape[0] != len(queries):
        raise ValueError(f"neighbours must be ({len(queries)}, K), got {neighbours.shape}")
    rows, k = neighbours.shape
    gray = images.shape[1] == 1
    fig = Figure(figsize=(1.15 * (k + 1) + 0.4, 1.35 * rows + 0.6), layout="constrained")
    axes = fig.subplots(rows, k + 1, squeeze=False)
    for r, query in enumerate(queries):
        for c, index in enumerate([query, *neighbours[r].tolist()]):
            ax = axes[r, c]
            ax.imshow(_as_image(images[index]), cmap="gray_r" if gray else None)
            ax.set_xticks([])
            ax.set_yticks([])
            caption = class_names[labels[index]] if labels is not None else f"#{index}"
            ax.set_xlabel(caption, fontsize=8, labelpad=2)
            if c == 0:
                ax.set_ylabel(f"query {r + 1}", fontsize=9)
                if r == 0:
                    ax.set_title("query", fontsize=9)
            elif r == 0:
                ax.set_title(f"#{c}", fontsize=9)
            if c > 0 and labels is not None:
                same = labels[index] == labels[query]
                h, w = images.shape[2], images.shape[3]
                ax.add_patch(
                    Rectangle(
                        (-0.5, -0.5),
                        w,
                        h,
                        fill=False,
                        lw=3,
                        edgecolor="tab:green" if same else "tab:red",
                    )
                )
    fig.suptitle(title)
    return fig
