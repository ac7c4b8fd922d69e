"""VICReg: variance-invariance-covariance regularisation (Bardes et al., 2021, arXiv:2105.04906)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from contrastkit.losses.global_views import global_views
from contrastkit.losses.module import LossModule
from contrastkit.losses.precision import autocast_off
from contrastkit.losses.validation import check_non_negative, check_pair, check_positive

__all__ = ["VICRegLoss", "vicreg"]


def _variance(z: Tensor, gamma: float, eps: float) -> Tensor:
    """v(Z) = mean_j relu(gamma - sqrt(Var(z_j) + eps)), unbiased variance."""
    return F.relu(gamma - torch.sqrt(z.var(0) + eps)).mean()


def _covariance(z: Tensor) -> Tensor:
    """c(Z) = (1/D) sum_{i != j} Cov(Z)_ij^2, Cov with 1/(N-1)."""
    n, d = z.shape
    zc = z - z.mean(0)
    cov = zc.T @ zc / (n - 1)  # (D, D)
    return (cov.pow(2).sum() - torch.diagonal(cov).pow(2).sum()) / d


def vicreg(
    z_a: Tensor,
    z_b: Tensor,
    *,
    invariance_weight: float = 25.0,
    variance_weight: float = 25.0,
    covariance_weight: float = 1.0,
    gamma: float = 1.0,
    eps: float = 1e-4,
    gather: bool = False,
) -> Tensor:
    """VICReg loss, as in the authors' code (variance term averaged over the two views)::

        L = lambda * mean ||z_a - z_b||^2 / D
            + mu * (v(Z_a) + v(Z_b)) / 2
            + nu * (c(Z_a) + c(Z_b))
        v(Z) = (1/D) sum_j max(0, gamma - sqrt(Var(z_j) + eps))
        c(Z) = (1/D) sum_{i != j} Cov(Z)_ij^2

    Args:
        z_a: Expander outputs of view a. Shape: (N, D).
        z_b: Expander outputs of view b. Shape: (N, D).
        invariance_weight: lambda (paper: 25).
        variance_weight: mu (paper: 25).
        covariance_weight: nu (paper: 1).
        gamma: Target standard deviation (paper: 1).
        eps: Added to the variance before the square root (paper: 1e-4).
        gather: Use the batch of all ranks (no-op without a process group); every rank
            then returns the global loss (see ``contrastkit.distributed``).

    Returns:
        Scalar loss (float32 math).

    Raises:
        ValueError: If shapes differ, N < 2, a weight < 0, or gamma or eps <= 0.

    Example:
        >>> loss = vicreg(torch.randn(8, 16), torch.randn(8, 16))
    """
    check_pair("z_a", z_a, "z_b", z_b, min_rows=2)
    for name, value in (
        ("invariance_weight", invariance_weight),
        ("variance_weight", variance_weight),
        ("covariance_weight", covariance_weight),
    ):
        check_non_negative(name, value)
    check_positive("gamma", gamma)
    check_positive("eps", eps)
    with autocast_off(z_a):
        a, b = global_views(z_a, z_b, gather=gather)
        invariance = F.mse_loss(a, b)
        variance = (_variance(a, gamma, eps) + _variance(b, gamma, eps)) / 2
        covariance = _covariance(a) + _covariance(b)
        return (
            invariance_weight * invariance
            + variance_weight * variance
            + covariance_weight * covariance
        )


class VICRegLoss(LossModule, function=vicreg):
    """Module form of :func:`vicreg`."""
