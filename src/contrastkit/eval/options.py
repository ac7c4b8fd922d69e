"""Options of the evaluation protocol."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from contrastkit.options import Strict

MIN_BUDGET_S = 300.0
"""The least time the supervised baseline is given when the budget follows training time:
short runs (the digits demo trains in about a minute) keep the full protocol."""


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
    full: bool = False
    """Run the full protocol whatever it costs. Off (default): the supervised baseline,
    the one part whose cost does not scale with the data's size alone, is held to
    `budget_s` by training fewer steps (with a note)."""
    budget_s: float | None = Field(None, gt=0.0, allow_inf_nan=False)
    """Seconds the supervised baseline may take (all draws); None: the run's training
    time, but at least `MIN_BUDGET_S` (set by `train` and `eval` from `train_time_s`)."""
    max_items: int | None = Field(10000, ge=2)
    """Image folders read lazily (no data.cache): evaluate on a seeded sample of at most
    this many training and this many test images, so that memory does not grow with the
    folder (None: every image)."""
    classes: list[int] | None = None
    """Evaluate on items of these classes only, relabelled 0..k-1 (the transfer protocol)."""
    tabular_budgets: list[int] = Field(default_factory=lambda: [2, 5, 10, 25])
    """Tables: labels per class of each few-label probe in the `tabular` metrics block."""

    @field_validator("classes")
    @classmethod
    def _class_labels(cls, value: list[int] | None) -> list[int] | None:
        return check_labels(value)

    @field_validator("tabular_budgets")
    @classmethod
    def _budgets(cls, value: list[int]) -> list[int]:
        if not value or min(value) < 1:
            raise PydanticCustomError("range", "expected a non-empty list of integers >= 1")
        return value


def check_labels(value: list[int] | None) -> list[int] | None:
    """`value` when it is None or a non-empty list of distinct class labels >= 0, else a
    pydantic error saying so."""
    if value is not None and (not value or min(value) < 0 or len(set(value)) != len(value)):
        raise PydanticCustomError(
            "range", "expected a non-empty list of distinct class labels >= 0, or null"
        )
    return value
