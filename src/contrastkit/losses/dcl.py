"""Decoupled contrastive loss, plain and weighted (Yeh et al., 2021, arXiv:2110.06848)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from contrastkit.distributed import all_gather_no_grad, rank, world_size
from contrastkit.losses.blocked import logit_stats
from contrastkit.losses.module import LossModule
from contrastkit.losses.nt_xent import two_view_layout
from contrastkit.losses.precision import autocast_off
from contrastkit.losses.reduction import anchor_mean
from contrastkit.losses.validation import check_chunk_size, check_positive

__all__ = ["DCLLoss", "dcl", "dcl_weighted"]


def dcl(
    z_a: Tensor,
    z_b: Tensor,
    temperature: float = 0.1,
    *,
    sigma: float | None = None,
    normalize: bool = True,
    ids: Tensor | None = None,
    mask: Tensor | None = None,
    chunk_size: int | None = None,
    gather: bool = False,
) -> Tensor:
    """DCL: NT-Xent with the positive removed from the denominator.

    With the rows, ``s_ij`` and ``p(i)`` of :func:`nt_xent`::

        L = 1/(2N) sum_i [ -w_i s_{i,p(i)} + log sum_{k != i, k != p(i)} exp(s_ik) ]

    ``w_i = 1`` (DCL), or with ``sigma`` the von Mises-Fisher weight of DCLW,
    ``w_i = 2 - N * softmax_n(cos(za_n, zb_n) / sigma)_i`` (no gradient; the same weight
    for both views of a sample; computed over the global batch with ``gather``).
    With ``ids`` every row of the same id is a positive and leaves the denominator.

    Args:
        z_a: Projections of view a. Shape: (N, D).
        z_b: Projections of view b. Shape: (N, D).
        temperature: tau > 0 (paper: 0.1); logits are scaled by 1 / tau.
        sigma: vMF weighting temperature (paper: 0.5); None for unweighted DCL.
        normalize: L2-normalise rows first (the vMF weight always uses cosines).
        ids: Sample ids; rows with equal ids are positives. Shape: (N,).
        mask: Known false negatives, as in :func:`nt_xent`. Shape: (N, N).
        chunk_size: Anchor rows per block of the logit matrix; None chooses.
        gather: Negatives from all ranks (no-op without a process group).

    Returns:
        Scalar loss (float32 math); unlike NT-Xent it can be negative.

    Raises:
        ValueError: On mismatched shapes, temperature <= 0 or sigma <= 0.

    Example:
        >>> loss = dcl(torch.randn(8, 16), torch.randn(8, 16), sigma=0.5)
    """
    check_positive("temperature", temperature)
    if sigma is not None:
        check_positive("sigma", sigma)
    check_chunk_size(chunk_size)
    with autocast_off(z_a):
        anchors, cands, layout = two_view_layout(
            z_a, z_b, normalize=normalize, gather=gather, ids=ids, mask=mask, exclude_positives=True
        )
        lse, pos_sum, pos_count = logit_stats(
            anchors, cands, scale=1.0 / temperature, layout=layout, chunk_size=chunk_size
        )
        pos_mean = pos_sum / pos_count.clamp_min(1.0)  # (2N,)
        if sigma is not None:
            n = z_a.shape[0]
            with torch.no_grad():
                cos = torch.nn.functional.cosine_similarity(anchors[:n], anchors[n:], dim=1)
                all_cos = all_gather_no_grad(cos) if gather else cos  # (Wn,)
                weight = 2 - all_cos.shape[0] * torch.softmax(all_cos / sigma, dim=0)
                r = rank() if gather and world_size() > 1 else 0
                weight = weight[r * n : (r + 1) * n].repeat(2)  # (2N,)
            pos_mean = weight * pos_mean
        return anchor_mean(lse - pos_mean, pos_count > 0, gather=gather)


def dcl_weighted(
    z_a: Tensor, z_b: Tensor, temperature: float = 0.1, *, sigma: float = 0.5, **options: Any
) -> Tensor:
    """DCLW: :func:`dcl` with the von Mises-Fisher positive weight (paper: sigma = 0.5);
    ``options`` are :func:`dcl`'s (normalize, ids, mask, chunk_size, gather)."""
    return dcl(z_a, z_b, temperature, sigma=sigma, **options)


class DCLLoss(LossModule, function=dcl):
    """Module form of :func:`dcl` (``sigma`` set: DCLW)."""
