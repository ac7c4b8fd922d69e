"""Mean over anchors that is exact under ``gather=True`` and DDP gradient averaging."""

from __future__ import annotations

import torch
from torch import Tensor

from contrastkit.distributed import all_reduce_sum, world_size


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
