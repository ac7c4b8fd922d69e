"""Options of the evaluation protocol."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from contrastkit.options import Strict


class EvalConfig(Strict):
    """Evaluation protocol; the same splits and draws serve the baselines."""

    knn_k: int = Field(20, ge=1)
    knn_temperature: float = Field(0.07, gt=0.0)
    knn_metric: Literal["cosine", "euclidean"] = "cosine"
    anomaly_k: int = Field(5, ge=1)
    fewshot_labels_per_class: int = Field(10, ge=1)
    fewshot_draws: int = Field(5, ge=1)
    supervised_steps: int = Field(500, ge=1)
    baselines: bool = True
    classes: list[int] | None = None
    """Evaluate on items of these classes only, relabelled 0..k-1 (the transfer protocol)."""
    tabular_budgets: list[int] = Field(default_factory=lambda: [2, 5, 10, 25])
    """Tables: labels per class of each few-label probe in the `tabular` metrics block."""
