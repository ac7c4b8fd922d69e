"""Few-label comparison on tables: a logistic probe on embeddings vs the raw standardised
features vs gradient boosting on the raw columns, on the same labelled subsets.

For each budget k (labels per class) and each of `draws` random subsets (`fewshot_indices`,
the same subsets for every model), three classifiers are fitted on the labelled rows only and
scored on the whole test split:
- embedding: the linear probe (standardise + L2 logistic regression, C = 1) on the encoder output;
- raw: the same probe on the raw features (standardised numeric + one-hot categorical);
- boosting: scikit-learn's `HistGradientBoostingClassifier` on the raw columns (categorical
  columns as native categories up to `BOOSTING_CATEGORIES` codes, the most it takes; a column
  with more is given as its ordinal codes), default settings except `min_samples_leaf`,
  lowered from 20 to max(1, min(20, n // 10)) for n labelled rows so that trees can split at
  all on 4-50 rows.
  It runs single-threaded: on these few-row fits OpenMP threads only add overhead, and on a
  loaded machine oversubscription made one fit take 60 s instead of 0.2 s (measured).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from contrastkit.eval.linear import fewshot_accuracies, fewshot_indices

ONE_HOT_MAX = 256
"""A categorical column with more codes than this is hashed into this many one-hot buckets
(code mod `ONE_HOT_MAX`) in the raw features, so that their width stays bounded."""
BOOSTING_CATEGORIES = 255
"""HistGradientBoostingClassifier takes categorical codes in [0, max_bins - 1], max_bins 255."""


def native_categories(cardinalities: list[int]) -> np.ndarray:
    """Shape: (Dc,) bool, the categorical columns boosting can take as categories."""
    return np.array([k <= BOOSTING_CATEGORIES for k in cardinalities], dtype=bool)


def raw_features(numeric: np.ndarray, codes: np.ndarray, cardinalities: list[int]) -> np.ndarray:
    """Numeric columns followed by a one-hot block per categorical column (of
    min(cardinality, `ONE_HOT_MAX`) columns: larger columns are hashed, code mod the width).

    Args:
        numeric: Shape: (N, Dn). codes: Shape: (N, Dc), int in [0, cardinality).

    Returns:
        Shape: (N, Dn + sum(min(cardinality, ONE_HOT_MAX))), float32.
    """
    if codes.shape[1] != len(cardinalities) or numeric.shape[0] != codes.shape[0]:
        raise ValueError(
            f"numeric {numeric.shape} and codes {codes.shape} must share N, and codes needs "
            f"{len(cardinalities)} columns"
        )
    blocks = [numeric.astype(np.float32)]
    for j, k in enumerate(cardinalities):
        width = min(k, ONE_HOT_MAX)
        blocks.append(np.eye(width, dtype=np.float32)[codes[:, j] % width])
    return np.concatenate(blocks, axis=1)


def boosting_accuracy(
    train_x: np.ndarray,
    train_y: np.ndarray,
    test_x: np.ndarray,
    test_y: np.ndarray,
    *,
    categorical: np.ndarray,
    seed: int,
) -> float:
    """Test accuracy of `HistGradientBoostingClassifier` (see the module docstring).

    Args:
        train_x: Shape: (N, F) raw columns (codes as numbers). test_x: Shape: (M, F).
        categorical: Shape: (F,) bool, which columns are categorical codes.
    """
    leaf = max(1, min(20, len(train_y) // 10))
    model = HistGradientBoostingClassifier(
        min_samples_leaf=leaf,
        categorical_features=categorical if categorical.any() else None,
        random_state=seed,
    )
    with threadpool_limits(limits=1):
        model.fit(train_x, train_y)
        return float(np.mean(model.predict(test_x) == test_y))


def _stats(accs: list[float]) -> dict[str, Any]:
    return {"mean": float(np.mean(accs)), "std": float(np.std(accs)), "draws": accs}


def budget_comparison(
    features: dict[str, tuple[torch.Tensor, torch.Tensor]],
    columns: tuple[np.ndarray, np.ndarray],
    train_y: np.ndarray,
    test_y: np.ndarray,
    *,
    categorical: np.ndarray,
    budgets: list[int],
    draws: int,
    seed: int,
) -> dict[str, dict[str, Any]]:
    """Per budget, the linear probe on each feature set and boosting on the raw columns.

    Args:
        features: Name (e.g. "embedding", "raw") -> (train (N, D), test (M, D)).
        columns: Raw columns for boosting: (train (N, F), test (M, F)).
        train_y: Shape: (N,). test_y: Shape: (M,).
        categorical: Shape: (F,) bool.
        budgets: Labels per class; a budget larger than the smallest class is skipped.
        draws: Random labelled subsets per budget (mean and std over them).

    Returns:
        `{str(k): {name: {"mean", "std", "draws"}, ..., "boosting": {...}}}`.
    """
    smallest = int(np.bincount(train_y).min())
    labels = torch.from_numpy(train_y), torch.from_numpy(test_y)
    result: dict[str, dict[str, Any]] = {}
    for k in budgets:
        if k > smallest:
            continue
        # the seed of the run's few-label probe: at its budget the subsets, and so the
        # numbers, are the ones the run's main table shows
        subsets = fewshot_indices(train_y, per_class=k, draws=draws, seed=seed)
        row: dict[str, Any] = {}
        for name, (train, test) in features.items():
            row[name] = _stats(fewshot_accuracies(train, labels[0], test, labels[1], subsets))
        row["boosting"] = _stats(
            [
                boosting_accuracy(
                    columns[0][s],
                    train_y[s],
                    columns[1],
                    test_y,
                    categorical=categorical,
                    seed=seed + i,
                )
                for i, s in enumerate(subsets)
            ]
        )
        result[str(k)] = row
    return result
