"""Mean over anchors that is exact under ``gather=True`` and DDP gradient averaging."""

from __future__ import annotations

import torch
from torch import Tensor

from contrastkit.distributed import all_reduce_sum, world_size
from contrastkit.losses.blocked import PairLayout, logit_stats


def anchor_mean(per_anchor: Tensor, valid: Tensor, *, gather: bool) -> Tensor:
    """Mean of ``per_anchor`` over the ``valid`` anchors of the (global) batch.

    Without ``gather`` this is the plain mean over valid rows. With ``gather`` each rank
    holds some anchors of the global batch and returns
    ``world_size * sum_local / count_global``: the average over ranks is the global mean
    and gradients follow the convention in ``contrastkit.distributed``. No valid anchor
    gives 0 (still differentiable).

    Args:
        per_anchor: Loss of each local anchor. Shape: (M,).
        valid: Which anchors count (e.g. those with a positive). Shape: (M,), bool.
        gather: Whether the anchors are one rank's share of a gathered batch.

    Returns:
        Scalar.
    """
    count = valid.sum().to(per_anchor.dtype)
    scale = 1.0
    if gather:
        count = all_reduce_sum(count)
        scale = float(world_size())
    total = torch.where(valid, per_anchor, torch.zeros_like(per_anchor)).sum()
    return total * scale / count.clamp_min(1.0)


def mean_positive_nll(
    anchors: Tensor,
    cands: Tensor,
    *,
    temperature: float,
    layout: PairLayout,
    chunk_size: int | None,
    gather: bool,
) -> Tensor:
    """The InfoNCE family's loss (NT-Xent, InfoNCE, SupCon): for each anchor with a positive,
    ``lse_i - mean_{p in P(i)} L_ip`` with ``L = anchors @ cands.T / temperature``, in row
    blocks (`logit_stats`), averaged by :func:`anchor_mean`.

    Args:
        anchors: Shape: (M, D). cands: Shape: (K, D).

    Returns:
        Scalar.
    """
    lse, pos_sum, pos_count = logit_stats(
        anchors, cands, scale=1.0 / temperature, layout=layout, chunk_size=chunk_size
    )
    per_anchor = lse - pos_sum / pos_count.clamp_min(1.0)  # (M,)
    return anchor_mean(per_anchor, pos_count > 0, gather=gather)
