"""Negative cosine similarity for BYOL (arXiv:2006.07733) and SimSiam (arXiv:2011.10566)."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from contrastkit.losses.module import LossModule
from contrastkit.losses.precision import autocast_off, upcast
from contrastkit.losses.validation import check_pair

__all__ = ["BYOLLoss", "NegativeCosineLoss", "byol", "negative_cosine"]


def negative_cosine(prediction: Tensor, target: Tensor) -> Tensor:
    """SimSiam's D(p, z) = -(1/N) sum_n cos(p_n, z_n), in [-1, 1].

    The loss does not detach ``target``: the method applies the stop-gradient
    (``target.detach()`` for SimSiam; BYOL's EMA teacher has no gradient anyway).

    Args:
        prediction: Predictor outputs. Shape: (N, D).
        target: Target projections. Shape: (N, D).

    Returns:
        Scalar loss (float32 math).

    Raises:
        ValueError: If the shapes differ or are not (N, D).

    Example:
        >>> loss = negative_cosine(torch.randn(8, 16), torch.randn(8, 16).detach())
    """
    check_pair("prediction", prediction, "target", target)
    with autocast_off(prediction):
        p, z = upcast(prediction), upcast(target)
        return -F.cosine_similarity(p, z.to(p.dtype), dim=1).mean()


def byol(prediction: Tensor, target: Tensor) -> Tensor:
    """BYOL's regression loss ||p/|p| - z/|z| ||^2 = 2 - 2 cos(p, z), mean over N, in [0, 4].

    Same inputs, shapes and stop-gradient convention as :func:`negative_cosine`
    (``byol(p, z) == 2 + 2 * negative_cosine(p, z)``). Symmetrise over the two views in
    the method.
    """
    return 2 + 2 * negative_cosine(prediction, target)


class NegativeCosineLoss(LossModule, function=negative_cosine):
    """Module form of :func:`negative_cosine`."""


class BYOLLoss(LossModule, function=byol):
    """Module form of :func:`byol`."""
