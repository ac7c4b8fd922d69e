"""Argument checks shared by the losses: one-line ``ValueError`` naming shapes and values."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import Tensor


def check_positive(name: str, value: float) -> None:
    """Raise ``ValueError`` unless ``value > 0`` (temperatures, scales, epsilons)."""
    if not value > 0:
        raise ValueError(f"{name} must be > 0, got {value}")


def check_non_negative(name: str, value: float) -> None:
    """Raise ``ValueError`` unless ``value >= 0`` (margins, weights)."""
    if not value >= 0:
        raise ValueError(f"{name} must be >= 0, got {value}")


def check_chunk_size(chunk_size: int | None) -> None:
    """``chunk_size`` is ``None`` (automatic) or a positive int."""
    if chunk_size is not None and chunk_size < 1:
        raise ValueError(f"chunk_size must be None or >= 1, got {chunk_size}")


def check_ndim(name: str, x: Tensor, ndim: int, shape_doc: str) -> None:
    """Raise ``ValueError`` unless ``x.ndim == ndim``; ``shape_doc`` is e.g. ``"(N, D)"``."""
    if x.ndim != ndim:
        raise ValueError(f"{name} must have shape {shape_doc}, got {tuple(x.shape)}")


def check_columns(name: str, x: Tensor, dim: int) -> None:
    """A (K, dim) matrix, e.g. a queue of negatives for (N, dim) queries."""
    if x.ndim != 2 or x.shape[1] != dim:
        raise ValueError(f"{name} must have shape (K, {dim}), got {tuple(x.shape)}")


def check_pair(name_a: str, a: Tensor, name_b: str, b: Tensor, *, min_rows: int = 0) -> None:
    """Both (N, D) with the same N and D, and N >= `min_rows` (a loss over the batch's
    statistics needs two rows)."""
    check_ndim(name_a, a, 2, "(N, D)")
    check_ndim(name_b, b, 2, "(N, D)")
    if a.shape != b.shape:
        raise ValueError(
            f"{name_a} and {name_b} must have the same shape (N, D), "
            f"got {tuple(a.shape)} and {tuple(b.shape)}"
        )
    if a.shape[0] < min_rows:
        raise ValueError(
            f"{name_a} and {name_b} need N >= {min_rows} rows (the loss uses the batch's "
            f"statistics), got {tuple(a.shape)}"
        )


def check_rows(name: str, x: Tensor, n: int, what: str) -> None:
    """A 1-D tensor with one entry per row of the batch (labels, ids, flags)."""
    if x.ndim != 1 or x.shape[0] != n:
        raise ValueError(f"{name} must have shape ({n},) ({what}), got {tuple(x.shape)}")


def check_mask(mask: Tensor, rows: int, cols: int) -> None:
    """A bool (rows, cols) matrix of known false negatives."""
    if mask.dtype != torch.bool or mask.shape != (rows, cols):
        raise ValueError(
            f"mask must be a bool tensor of shape ({rows}, {cols}), "
            f"got {mask.dtype} {tuple(mask.shape)}"
        )


def check_at_least_one(name: str, value: int) -> None:
    """Raise ``ValueError`` unless ``value >= 1`` (iteration counts)."""
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")


_RULES: dict[str, Callable[[str, Any], None]] = {
    **dict.fromkeys(
        (
            "temperature",
            "student_temperature",
            "teacher_temperature",
            "sigma",
            "epsilon",
            "eps",
            "gamma",
            "init_scale",
            "cutoff",
            "nonzero_loss_cutoff",
        ),
        check_positive,
    ),
    **dict.fromkeys(
        (
            "margin",
            "l2_reg",
            "lambda_offdiag",
            "invariance_weight",
            "variance_weight",
            "covariance_weight",
        ),
        check_non_negative,
    ),
    "chunk_size": lambda _name, value: check_chunk_size(value),
    "sinkhorn_iterations": check_at_least_one,
}
"""The range of each hyperparameter name the losses share (None means "not set")."""


def check_hyperparameters(values: Mapping[str, Any]) -> None:
    """Check each value against the rule of its name (`_RULES`); raise ``ValueError`` for
    the first one out of range (a loss module checks its hyperparameters when made)."""
    for name, value in values.items():
        rule = _RULES.get(name)
        if rule is not None and value is not None:
            rule(name, value)
