"""The confusion matrix as a heat map: colour = fraction of the true class, text = count."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure


def confusion_figure(
    confusion: Sequence[Sequence[int]], class_names: Sequence[str], *, title: str
) -> Figure:
    """Rows are true classes, columns predicted classes; each row is coloured by its share.

    Args:
        confusion: Shape: (C, C) counts.
        class_names: C names.
    """
    cm = np.asarray(confusion, dtype=float)
    n = cm.shape[0]
    if cm.shape != (n, n) or len(class_names) != n:
        raise ValueError(f"need a (C, C) matrix and C names, got {cm.shape}, {len(class_names)}")
    share = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    size = min(1.8 + 0.36 * n, 10.0)
    fig = Figure(figsize=(size + 1.1, size), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(share, cmap="Blues", vmin=0.0, vmax=1.0)
    fig.colorbar(image, ax=ax, shrink=0.8, label="fraction of the true class")
    ticks = np.arange(n)
    ax.set_xticks(ticks, labels=list(class_names), rotation=45 if n > 10 else 0)
    ax.set_yticks(ticks, labels=list(class_names))
    ax.set(xlabel="predicted class", ylabel="true class", title=title)
    if n <= 20:
        for i in range(n):
            for j in range(n):
                if cm[i, j]:
                    color = "white" if share[i, j] > 0.5 else "black"
                    ax.text(
                        j, i, f"{int(cm[i, j])}", ha="center", va="center", color=color, fontsize=8
                    )
    return fig
