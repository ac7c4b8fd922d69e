"""Barlow Twins redundancy-reduction loss (Zbontar et al., 2021, arXiv:2103.03230)."""

from __future__ import annotations

import torch
from torch import Tensor

from contrastkit.losses.global_views import global_views
from contrastkit.losses.module import LossModule
from contrastkit.losses.precision import autocast_off
from contrastkit.losses.validation import check_non_negative, check_pair, check_positive

__all__ = ["BarlowTwinsLoss", "barlow_twins"]


def _standardize(z: Tensor, eps: float) -> Tensor:
    """Per-dimension zero mean, unit (biased) variance over the batch, like BatchNorm1d."""
    return (z - z.mean(0)) / torch.sqrt(z.var(0, unbiased=False) + eps)


def barlow_twins(
    z_a: Tensor,
    z_b: Tensor,
    *,
    lambda_offdiag: float = 5e-3,
    eps: float = 1e-5,
    gather: bool = False,
) -> Tensor:
    """Barlow Twins: make the cross-correlation matrix of two views the identity.

    With ``z`` standardised per dimension over the batch (BatchNorm without affine)::

        C_ij = (1/N) sum_n za_ni * zb_nj
        L = sum_i (1 - C_ii)^2 + lambda_offdiag * sum_{i != j} C_ij^2

    Args:
        z_a: Projections of view a. Shape: (N, D).
        z_b: Projections of view b. Shape: (N, D).
        lambda_offdiag: Weight of the redundancy term (paper: 5e-3).
        eps: Added to the variance before the square root.
        gather: Compute C over the batch of all ranks (no-op without a process group);
            every rank then returns the global loss (see ``contrastkit.distributed``).

    Returns:
        Scalar loss (float32 math).

    Raises:
        ValueError: If shapes differ, N < 2, lambda_offdiag < 0 or eps <= 0.

    Example:
        >>> loss = barlow_twins(torch.randn(8, 16), torch.randn(8, 16))
    """
    check_pair("z_a", z_a, "z_b", z_b, min_rows=2)
    check_non_negative("lambda_offdiag", lambda_offdiag)
    check_positive("eps", eps)
    with autocast_off(z_a):
        a, b = global_views(z_a, z_b, gather=gather)
        c = _standardize(a, eps).T @ _standardize(b, eps) / a.shape[0]  # (D, D)
        on_diag = (1 - torch.diagonal(c)).pow(2).sum()
        off_diag = c.pow(2).sum() - torch.diagonal(c).pow(2).sum()
        return on_diag + lambda_offdiag * off_diag


class BarlowTwinsLoss(LossModule, function=barlow_twins):
    """Module form of :func:`barlow_twins`."""
