"""Pair losses: Hadsell's margin contrastive loss and Sohn's multi-class N-pair loss."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from contrastkit.losses.info_nce import info_nce
from contrastkit.losses.module import LossModule
from contrastkit.losses.precision import autocast_off, upcast
from contrastkit.losses.validation import (
    check_non_negative,
    check_pair,
    check_rows,
)

__all__ = ["MarginContrastiveLoss", "NPairLoss", "margin_contrastive", "n_pair"]


def margin_contrastive(
    a: Tensor,
    b: Tensor,
    same: Tensor,
    margin: float = 1.0,
    *,
    normalize: bool = True,
) -> Tensor:
    """Contrastive loss of Hadsell, Chopra & LeCun (CVPR 2006, "Dimensionality Reduction
    by Learning an Invariant Mapping"; no arXiv id).

    With ``d_n = ||a_n - b_n||_2``::

        L = (1/N) sum_n [ same_n * d_n^2 / 2 + (1 - same_n) * max(0, margin - d_n)^2 / 2 ]

    Args:
        a: First embedding of each pair. Shape: (N, D).
        b: Second embedding of each pair. Shape: (N, D).
        same: True where the pair is similar. Shape: (N,), bool.
        margin: Dissimilar pairs closer than this are pushed apart (>= 0). With
            ``normalize`` distances lie in [0, 2].
        normalize: L2-normalise rows first.

    Returns:
        Scalar loss (float32 math).

    Raises:
        ValueError: On mismatched shapes, non-bool ``same`` or margin < 0.

    Example:
        >>> loss = margin_contrastive(torch.randn(8, 4), torch.randn(8, 4), torch.rand(8) > 0.5)
    """
    check_pair("a", a, "b", b)
    check_rows("same", same, a.shape[0], "True for similar pairs")
    if same.dtype != torch.bool:
        raise ValueError(f"same must be a bool tensor, got {same.dtype}")
    check_non_negative("margin", margin)
    with autocast_off(a):
        x, y = upcast(a), upcast(b).to(upcast(a).dtype)
        if normalize:
            x, y = F.normalize(x, dim=1), F.normalize(y, dim=1)
        sq = (x - y).pow(2).sum(1)  # (N,) squared distance, smooth at 0
        dist = torch.sqrt(sq.clamp_min(1e-12))
        pull = sq / 2
        push = F.relu(margin - dist).pow(2) / 2
        return torch.where(same, pull, push).mean()


def n_pair(
    anchor: Tensor,
    positive: Tensor,
    *,
    l2_reg: float = 0.0,
    normalize: bool = True,
    ids: Tensor | None = None,
    chunk_size: int | None = None,
    gather: bool = False,
) -> Tensor:
    """Multi-class N-pair loss (Sohn, NeurIPS 2016, "Improved Deep Metric Learning with
    Multi-class N-pair Loss Objective"; no arXiv id).

    Each anchor must pick its own positive among the N positives, with dot-product
    logits (no temperature)::

        L = (1/N) sum_i log(1 + sum_{j != i} exp(f_i . f_j^+ - f_i . f_i^+))
            + l2_reg * (1/2N) sum_i (||f_i||^2 + ||f_i^+||^2)

    i.e. ``info_nce(anchor, positive, temperature=1)``. The paper uses unnormalised
    embeddings and a small ``l2_reg``: pass ``normalize=False``; the default follows the
    library rule (cosine similarity).

    Args:
        anchor: Shape: (N, D).
        positive: Row n is the positive of anchor n (one pair per class). Shape: (N, D).
        l2_reg: Weight of the squared-norm penalty (>= 0) on the raw inputs.
        normalize: L2-normalise rows first.
        ids: Class ids; positives of other rows with the anchor's id also count as
            positives. Shape: (N,).
        chunk_size: Anchor rows per block of the logit matrix; None chooses.
        gather: Positives of all ranks are candidates (no-op without a process group).

    Returns:
        Scalar loss (float32 math).

    Raises:
        ValueError: On mismatched shapes or l2_reg < 0.

    Example:
        >>> loss = n_pair(torch.randn(8, 16), torch.randn(8, 16), normalize=False, l2_reg=0.002)
    """
    check_non_negative("l2_reg", l2_reg)
    check_pair("anchor", anchor, "positive", positive)
    loss = info_nce(
        anchor, positive, 1.0, normalize=normalize, ids=ids, chunk_size=chunk_size, gather=gather
    )
    if l2_reg > 0:
        with autocast_off(anchor):
            norms = upcast(anchor).pow(2).sum(1) + upcast(positive).pow(2).sum(1)
            loss = loss + l2_reg * norms.mean() / 2
    return loss


class MarginContrastiveLoss(LossModule, function=margin_contrastive):
    """Module form of :func:`margin_contrastive`."""


class NPairLoss(LossModule, function=n_pair):
    """Module form of :func:`n_pair`."""
