"""SigLIP pairwise sigmoid loss (Zhai et al., 2023, arXiv:2303.15343)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from contrastkit.distributed import all_gather_no_grad, all_gather_with_grad, rank, world_size
from contrastkit.losses.blocked import PairLayout, sigmoid_pair_sum
from contrastkit.losses.precision import autocast_off, upcast
from contrastkit.losses.validation import (
    check_chunk_size,
    check_mask,
    check_pair,
    check_positive,
    check_rows,
)

__all__ = ["SigmoidPairsLoss", "sigmoid_pairs"]


def sigmoid_pairs(
    a: Tensor,
    b: Tensor,
    scale: float | Tensor = 10.0,
    bias: float | Tensor = -10.0,
    *,
    normalize: bool = True,
    ids: Tensor | None = None,
    mask: Tensor | None = None,
    chunk_size: int | None = None,
    gather: bool = False,
) -> Tensor:
    """SigLIP: an independent binary classification for every (a_i, b_j) pair.

    With ``x_ij = scale * cos(a_i, b_j) + bias`` and ``y_ij = +1`` if ``i == j`` (or the
    ids are equal) else ``-1``::

        L = -(1/N) sum_i sum_j log sigmoid(y_ij * x_ij)

    ``scale`` is the inverse temperature ``t' = exp(t)``; the paper learns ``t`` and
    ``bias`` from ``t' = 10, b = -10`` (:class:`SigmoidPairsLoss` holds them).

    Args:
        a: Embeddings of modality / view a. Shape: (N, D).
        b: Embeddings of b, row n paired with row n of a. Shape: (N, D).
        scale: Logit scale > 0, a float or 0-dim tensor (gradient flows to a tensor).
        bias: Logit bias, a float or 0-dim tensor.
        normalize: L2-normalise rows first (cosine similarity).
        ids: Pair ids; every (i, j) with equal ids is positive. Shape: (N,).
        mask: Known false negatives: ``mask[i, j]`` leaves pair (i, j) out of the sum
            unless it is positive. Shape: (N, N), or (N, world_size * N) with gather.
        chunk_size: Rows of a per block; None chooses.
        gather: Pairs (local a, b of all ranks); the average over ranks is the loss of
            the global batch (see ``contrastkit.distributed``).

    Returns:
        Scalar loss (float32 math).

    Raises:
        ValueError: On mismatched shapes or scale <= 0.

    Example:
        >>> loss = sigmoid_pairs(torch.randn(8, 16), torch.randn(8, 16))
    """
    check_pair("a", a, "b", b)
    check_chunk_size(chunk_size)
    if not isinstance(scale, Tensor):
        check_positive("scale", scale)
    n = a.shape[0]
    with autocast_off(a):
        x, y = upcast(a), upcast(b).to(upcast(a).dtype)
        if normalize:
            x, y = F.normalize(x, dim=1), F.normalize(y, dim=1)
        scale_t = torch.as_tensor(scale, dtype=x.dtype, device=x.device)
        bias_t = torch.as_tensor(bias, dtype=x.dtype, device=x.device)
        w, r = (world_size(), rank()) if gather else (1, 0)
        cands = all_gather_with_grad(y) if w > 1 else y  # (Wn, D)
        drop = None
        if mask is not None:
            check_mask(mask, n, w * n)
            drop = mask
        if ids is None:
            layout = PairLayout(pos_cols=r * n + torch.arange(n, device=x.device), drop=drop)
        else:
            check_rows("ids", ids, n, "one id per pair; equal ids are positives")
            all_ids = all_gather_no_grad(ids) if w > 1 else ids
            layout = PairLayout(anchor_ids=ids, cand_ids=all_ids, drop=drop)
        total = sigmoid_pair_sum(
            x, cands, scale=scale_t, bias=bias_t, layout=layout, chunk_size=chunk_size
        )
        # Global loss: sum over the Wn x Wn pairs / Wn. This rank's rows hold sum_r, and
        # world_size * sum_r / (Wn) = sum_r / n is its share under the DDP convention.
        return total / n


class SigmoidPairsLoss(nn.Module):
    """:func:`sigmoid_pairs` with a learnable log-scale and bias (paper init: 10, -10).

    Parameters:
        log_scale: ``scale = exp(log_scale)``, initialised to ``log(init_scale)``.
        bias: Initialised to ``init_bias``.
    """

    def __init__(
        self,
        *,
        init_scale: float = 10.0,
        init_bias: float = -10.0,
        learnable: bool = True,
        normalize: bool = True,
        chunk_size: int | None = None,
        gather: bool = False,
    ) -> None:
        super().__init__()
        check_positive("init_scale", init_scale)
        check_chunk_size(chunk_size)
        self.log_scale = nn.Parameter(torch.tensor(math.log(init_scale)), requires_grad=learnable)
        self.bias = nn.Parameter(torch.tensor(float(init_bias)), requires_grad=learnable)
        self.normalize, self.chunk_size, self.gather = normalize, chunk_size, gather

    def forward(
        self, a: Tensor, b: Tensor, ids: Tensor | None = None, mask: Tensor | None = None
    ) -> Tensor:
        return sigmoid_pairs(
            a,
            b,
            self.log_scale.exp(),
            self.bias,
            normalize=self.normalize,
            ids=ids,
            mask=mask,
            chunk_size=self.chunk_size,
            gather=self.gather,
        )
