"""Training curves from `log.jsonl`: loss, learning rate, and any logged health measure."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure

NOT_CURVES = {"step", "epoch", "loss", "lr", "samples_per_s"}


def health_keys(records: list[dict[str, Any]]) -> list[str]:
    """Numeric keys logged besides step/epoch/loss/lr/throughput (e.g. rankme, emb_std),
    in first-seen order; a key with one value throughout (an embedding's dim) is no curve."""
    values: dict[str, set[float]] = {}
    for record in records:
        for key, value in record.items():
            if key not in NOT_CURVES and isinstance(value, int | float):
                values.setdefault(key, set()).add(float(value))
    return [key for key, seen in values.items() if len(seen) > 1]


def _smooth(values: np.ndarray, window: int) -> np.ndarray:
    if len(values) < 2 * window:
        return values
    kernel = np.ones(window) / window
    padded = np.r_[np.full(window - 1, values[0]), values]
    return np.convolve(padded, kernel, mode="valid")


def curves_figure(records: list[dict[str, Any]]) -> Figure:
    """Loss (raw and smoothed) and learning rate against the step, then one panel per
    logged health measure.

    Args:
        records: `log.jsonl` lines, each with at least "step" and "loss".
    """
    extra = health_keys(records)
    panels = 2 + len(extra)
    cols = min(panels, 3)
    rows = -(-panels // cols)
    fig = Figure(figsize=(4.2 * cols, 3.2 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    steps = np.array([r["step"] for r in records], dtype=float)
    loss = np.array([r.get("loss", np.nan) for r in records], dtype=float)
    ax = axes[0]
    window = len(loss) // 20
    if window >= 2:  # enough points for a moving average to differ from the raw line
        ax.plot(steps, loss, color="tab:blue", alpha=0.35, label="logged")
        ax.plot(steps, _smooth(loss, window), color="tab:blue", label=f"mean of {window}")
        ax.legend(frameon=False)
    else:
        ax.plot(steps, loss, color="tab:blue", marker="." if len(loss) < 30 else "")
    ax.set(title="training loss", xlabel="step", ylabel="loss")
    ax = axes[1]
    ax.plot(steps, [r.get("lr", np.nan) for r in records], color="tab:orange")
    ax.set(title="learning rate", xlabel="step", ylabel="lr")
    ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 3))
    for ax, key in zip(axes[2:], extra, strict=False):
        points = [(r["step"], r[key]) for r in records if isinstance(r.get(key), int | float)]
        ax.plot(
            *zip(*points, strict=True), color="tab:green", marker="." if len(points) < 30 else ""
        )
        ax.set(title=key, xlabel="step", ylabel=key)
    for ax in axes[panels:]:
        ax.set_axis_off()
    for ax in axes[:panels]:
        ax.grid(alpha=0.3)
    return fig
