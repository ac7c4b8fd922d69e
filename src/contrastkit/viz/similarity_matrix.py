"""A picture of the cross-modal similarity matrix of a batch of pairs (PNG)."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from contrastkit.rundir import write_atomic  # noqa: E402


def plot_similarity_matrix(
    sim: np.ndarray, labels: list[str], path: Path, *, row_name: str, title: str
) -> None:
    """Heat map of `sim` (row i: sample i, column j: text j; the diagonal holds the true
    pairs), written atomically to `path` as PNG.

    Args:
        sim: Cosine similarities. Shape: (n, n).
        labels: The text of each pair (n strings), on both axes.
        row_name: What the rows are ("image", "audio").
    """
    if sim.ndim != 2 or sim.shape[0] != sim.shape[1] or sim.shape[0] != len(labels):
        raise ValueError(f"sim must be (n, n) with n = {len(labels)} labels, got {sim.shape}")
    n = len(labels)
    size = max(4.0, 0.35 * n + 2.0)
    fig, ax = plt.subplots(figsize=(size + 1.0, size))
    image = ax.imshow(sim, cmap="viridis", vmin=-1.0, vmax=1.0)
    ax.set_xticks(range(n), labels, rotation=90, fontsize=7)
    ax.set_yticks(range(n), labels, fontsize=7)
    ax.set_xlabel("text")
    ax.set_ylabel(f"{row_name} (labelled with its text)")
    ax.set_title(title, fontsize=9)
    for i in range(n):
        ax.add_patch(plt.Rectangle((i - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="red", lw=0.8))
    fig.colorbar(image, ax=ax, fraction=0.046, label="cosine similarity")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    write_atomic(path, lambda handle: handle.write(buffer.getvalue()))
