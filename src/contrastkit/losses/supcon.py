"""Supervised contrastive loss, L_out (Khosla et al., 2020, arXiv:2004.11362)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from contrastkit.distributed import all_gather_no_grad, all_gather_with_grad, rank, world_size
from contrastkit.losses.blocked import PairLayout
from contrastkit.losses.module import LossModule
from contrastkit.losses.precision import autocast_off, upcast
from contrastkit.losses.reduction import mean_positive_nll
from contrastkit.losses.validation import (
    check_chunk_size,
    check_mask,
    check_ndim,
    check_positive,
    check_rows,
)

__all__ = ["SupConLoss", "supcon"]


def supcon(
    z: Tensor,
    labels: Tensor | None,
    temperature: float = 0.1,
    *,
    normalize: bool = True,
    mask: Tensor | None = None,
    chunk_size: int | None = None,
    gather: bool = False,
) -> Tensor:
    """SupCon L_out: every view of every sample is an anchor; same-label views are positives.

    Over the N*V rows with ``s_ij = cos(z_i, z_j) / temperature``, ``A(i)`` all rows but
    ``i`` and ``P(i)`` the rows of ``A(i)`` with the label of ``i``::

        L = 1/|I| sum_{i in I} [ -1/|P(i)| sum_{p in P(i)} s_ip + log sum_{a in A(i)} exp(s_ia) ]

    ``I`` is the set of anchors with at least one positive (a single-view sample of a
    class seen once has none and is left out). ``labels=None`` makes each sample its own
    class (SimCLR with V views).

    Args:
        z: Projections, V views per sample. Shape: (N, V, D).
        labels: Class of each sample, integer. Shape: (N,).
        temperature: tau > 0 (paper: 0.1); logits are scaled by 1 / tau.
        normalize: L2-normalise rows first (cosine similarity); False uses dot products.
        mask: Known false negatives: ``mask[i, j]`` leaves all views of sample j out of
            the negatives of sample i's views. Shape: (N, N), or (N, world_size * N).
        chunk_size: Anchor rows per block of the logit matrix; None chooses.
        gather: Negatives and positives from all ranks (no-op without a process group).

    Returns:
        Scalar loss (float32 math); 0 when no anchor has a positive.

    Raises:
        ValueError: On bad shapes, non-integer labels, or temperature <= 0.

    Example:
        >>> loss = supcon(torch.randn(8, 2, 16), torch.randint(0, 3, (8,)))
    """
    check_positive("temperature", temperature)
    check_chunk_size(chunk_size)
    check_ndim("z", z, 3, "(N, V, D)")
    n, v, _ = z.shape
    if labels is None:
        labels = torch.arange(n, device=z.device) + (rank() if gather else 0) * n
    else:
        check_rows("labels", labels, n, "one label per sample of z (N, V, D)")
        if labels.dtype.is_floating_point or labels.dtype == torch.bool:
            raise ValueError(f"labels must be an integer tensor, got {labels.dtype}")
    with autocast_off(z):
        rows = upcast(z).reshape(n * v, -1)  # (N*V, D), sample-major: row i*V + view
        if normalize:
            rows = F.normalize(rows, dim=1)
        w, r = (world_size(), rank()) if gather else (1, 0)
        cands = all_gather_with_grad(rows) if w > 1 else rows  # (W*N*V, D)
        all_labels = all_gather_no_grad(labels) if w > 1 else labels
        drop = None
        if mask is not None:
            check_mask(mask, n, w * n)
            drop = mask.repeat_interleave(v, 0).repeat_interleave(v, 1)  # (NV, WNV)
        layout = PairLayout(
            anchor_ids=labels.repeat_interleave(v),
            cand_ids=all_labels.repeat_interleave(v),
            self_cols=r * n * v + torch.arange(n * v, device=z.device),
            drop=drop,
        )
        return mean_positive_nll(
            rows,
            cands,
            temperature=temperature,
            layout=layout,
            chunk_size=chunk_size,
            gather=gather,
        )


class SupConLoss(LossModule, function=supcon):
    """Module form of :func:`supcon`."""
