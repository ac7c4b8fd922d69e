"""The cross-modal similarity matrix of a batch of pairs as a heat map (true pairs boxed)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from contrastkit.atomic import write_atomic


def similarity_figure(
    sim: np.ndarray, labels: Sequence[str], *, row_name: str, title: str
) -> Figure:
    """Row i: sample i (an image or a clip), column j: text j; the diagonal holds the true
    pairs and is boxed.

    Args:
        sim: Cosine similarities. Shape: (n, n).
        labels: The text of each pair (n strings), on both axes.
        row_name: What the rows are ("image", "audio").
    """
    n = len(labels)
    if sim.shape != (n, n):
        raise ValueError(f"sim must be (n, n) with n = {n} labels, got {sim.shape}")
    size = min(max(4.0, 0.35 * n + 2.0), 12.0)
    fig = Figure(figsize=(size + 1.2, size), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(sim, cmap="viridis", vmin=-1.0, vmax=1.0)
    fig.colorbar(image, ax=ax, shrink=0.8, label="cosine similarity")
    ax.set_xticks(np.arange(n), labels=list(labels), rotation=90, fontsize=7)
    ax.set_yticks(np.arange(n), labels=list(labels), fontsize=7)
    ax.set(xlabel="text", ylabel=f"{row_name} (labelled with its text)")
    ax.set_title(title, fontsize=9)
    for i in range(n):
        ax.add_patch(Rectangle((i - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="red", lw=0.8))
    return fig


def write_png(fig: Figure, path: Path, *, dpi: int = 100) -> None:
    """Render `fig` with Agg and write it to `path` atomically."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    write_atomic(path, lambda handle: handle.write(buffer.getvalue()))
