"""Linear probes: logistic regression on frozen, standardised features."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def linear_probe_predict(
    train_x: np.ndarray,
    train_y: np.ndarray,
    test_x: np.ndarray,
    *,
    c: float = 1.0,
    max_iter: int = 2000,
) -> np.ndarray:
    """Test predictions of an L2-regularised logistic regression on standardised features.

    Args:
        train_x: Shape: (N, D) features. test_x: Shape: (M, D).
        train_y: Shape: (N,) labels.
        c: Inverse regularisation strength (scikit-learn's C).

    Returns:
        Shape: (M,), the predicted labels.
    """
    if train_x.ndim != 2 or test_x.ndim != 2 or train_x.shape[1] != test_x.shape[1]:
        raise ValueError(
            f"train_x (N, D) and test_x (M, D) must share D, got {train_x.shape} and {test_x.shape}"
        )
    if len(np.unique(train_y)) < 2:
        raise ValueError("a linear probe needs at least two classes in train_y")
    model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=max_iter))
    model.fit(train_x, train_y)
    return np.asarray(model.predict(test_x))


def linear_probe(
    train_x: np.ndarray,
    train_y: np.ndarray,
    test_x: np.ndarray,
    test_y: np.ndarray,
    *,
    c: float = 1.0,
    max_iter: int = 2000,
) -> float:
    """Top-1 test accuracy (a fraction in [0, 1]) of `linear_probe_predict`."""
    preds = linear_probe_predict(train_x, train_y, test_x, c=c, max_iter=max_iter)
    return float(np.mean(preds == test_y))


def fewshot_indices(
    labels: np.ndarray, *, per_class: int, draws: int, seed: int
) -> list[np.ndarray]:
    """`draws` random subsets of `per_class` indices from every class (same for all models).

    Raises:
        ValueError: a class has fewer than `per_class` samples.
    """
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels, return_counts=True)
    if counts.min() < per_class:
        small = classes[counts.argmin()]
        raise ValueError(f"class {small} has {counts.min()} samples, fewer than {per_class}")
    subsets = []
    for _ in range(draws):
        picked = [
            rng.choice(np.flatnonzero(labels == c), per_class, replace=False) for c in classes
        ]
        subsets.append(np.sort(np.concatenate(picked)))
    return subsets


def fewshot_linear_probe(
    train_x: np.ndarray,
    train_y: np.ndarray,
    test_x: np.ndarray,
    test_y: np.ndarray,
    subsets: list[np.ndarray],
) -> dict[str, float | list[float]]:
    """The linear probe trained on each labelled subset; mean, std and every draw."""
    accs = [linear_probe(train_x[s], train_y[s], test_x, test_y) for s in subsets]
    return {
        "linear_top1_mean": float(np.mean(accs)),
        "linear_top1_std": float(np.std(accs)),
        "draws": accs,
    }
