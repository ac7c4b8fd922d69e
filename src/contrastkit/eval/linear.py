"""Linear probes: logistic regression on frozen, standardised features, on their device.

The model and solver are `logistic.fit_logistic` (scikit-learn's objective, L-BFGS in
torch); the few-label draws are fitted together as one batched problem.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from contrastkit.eval.logistic import fit_logistic


def _check_pair(train_x: Tensor, train_y: Tensor, test_x: Tensor) -> None:
    if train_x.ndim != 2 or test_x.ndim != 2 or train_x.shape[1] != test_x.shape[1]:
        raise ValueError(
            f"train_x (N, D) and test_x (M, D) must share D, got {tuple(train_x.shape)} and "
            f"{tuple(test_x.shape)}"
        )
    if train_y.shape != (train_x.shape[0],):
        raise ValueError(f"train_y must be ({train_x.shape[0]},), got {tuple(train_y.shape)}")


def linear_probe_predict(
    train_x: Tensor,
    train_y: Tensor,
    test_x: Tensor,
    *,
    c: float = 1.0,
    max_iter: int = 2000,
) -> Tensor:
    """Test predictions of an L2-regularised logistic regression on standardised features
    (scikit-learn's `StandardScaler` + `LogisticRegression(C=c)`), fitted on `train_x`'s
    device.

    Args:
        train_x: Shape: (N, D) features. test_x: Shape: (M, D).
        train_y: Shape: (N,), int64 labels >= 0.
        c: Inverse regularisation strength (scikit-learn's C).

    Returns:
        Shape: (M,), int64, the predicted labels (only labels seen in `train_y`).

    Raises:
        ValueError: shapes disagree or `train_y` has fewer than two classes.
    """
    _check_pair(train_x, train_y, test_x)
    y = train_y.to(train_x.device).long()
    fit = fit_logistic(train_x[None], y[None], num_classes=int(y.max()) + 1, c=c, max_iter=max_iter)
    return fit.predict(test_x.to(train_x.device))[0]


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


def fewshot_accuracies(
    train_x: Tensor,
    train_y: Tensor,
    test_x: Tensor,
    test_y: Tensor,
    subsets: list[np.ndarray],
    *,
    c: float = 1.0,
    max_iter: int = 2000,
) -> list[float]:
    """Test accuracy of the linear probe trained on each subset of the training rows; the
    subsets (all of one size) are fitted as one batched problem on `train_x`'s device.

    Args:
        train_x: Shape: (N, D). train_y: Shape: (N,).
        test_x: Shape: (M, D). test_y: Shape: (M,).
        subsets: B index arrays of equal length into the training rows.

    Returns:
        B accuracies, fractions in [0, 1].
    """
    _check_pair(train_x, train_y, test_x)
    if not subsets or len({len(s) for s in subsets}) != 1:
        raise ValueError(f"need subsets of one size, got sizes {[len(s) for s in subsets]}")
    device = train_x.device
    rows = torch.as_tensor(np.stack(subsets), dtype=torch.long, device=device)  # (B, n)
    y = train_y.to(device).long()
    fit = fit_logistic(train_x[rows], y[rows], num_classes=int(y.max()) + 1, c=c, max_iter=max_iter)
    correct = fit.predict(test_x.to(device)) == test_y.to(device)[None]  # (B, M)
    return correct.double().mean(dim=1).tolist()


def fewshot_linear_probe(
    train_x: Tensor,
    train_y: Tensor,
    test_x: Tensor,
    test_y: Tensor,
    subsets: list[np.ndarray],
) -> dict[str, float | list[float]]:
    """The linear probe trained on each labelled subset; mean, std and every draw."""
    accs = fewshot_accuracies(train_x, train_y, test_x, test_y, subsets)
    return {
        "linear_top1_mean": float(np.mean(accs)),
        "linear_top1_std": float(np.std(accs)),
        "draws": accs,
    }
