"""SimCLR's NT-Xent loss (Chen et al., 2020, arXiv:2002.05709)."""

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
    check_pair,
    check_positive,
    check_rows,
)

__all__ = ["NTXentLoss", "nt_xent", "two_view_layout"]


def two_view_layout(
    z_a: Tensor,
    z_b: Tensor,
    *,
    normalize: bool,
    gather: bool,
    ids: Tensor | None,
    mask: Tensor | None,
    exclude_positives: bool = False,
) -> tuple[Tensor, Tensor, PairLayout]:
    """Anchors, candidates and pair layout of a two-view batch (NT-Xent, DCL).

    Anchors are the 2n local rows ``[z_a; z_b]``; candidates the 2Wn rows
    ``[gather(z_a); gather(z_b)]`` (W ranks, W = 1 without ``gather``). Anchor ``i``
    leaves out its own row; its positive is the other view of the same sample, or with
    ``ids`` every other row with the same id.

    Returns:
        ``(anchors (2n, D), candidates (2Wn, D), layout)``.
    """
    check_pair("z_a", z_a, "z_b", z_b)
    n = z_a.shape[0]
    a, b = upcast(z_a), upcast(z_b)
    if normalize:
        a, b = F.normalize(a, dim=1), F.normalize(b, dim=1)
    anchors = torch.cat([a, b])  # (2n, D)
    w, r = (world_size(), rank()) if gather else (1, 0)
    cands = torch.cat([all_gather_with_grad(a), all_gather_with_grad(b)]) if w > 1 else anchors
    local = r * n + torch.arange(n, device=a.device)  # global index of local samples
    self_cols = torch.cat([local, w * n + local])
    drop = None
    if mask is not None:
        check_mask(mask, n, w * n)
        drop = mask.repeat(2, 2)  # (2n, 2Wn): same pair in all four view quadrants
    if ids is None:
        layout = PairLayout(
            pos_cols=torch.cat([w * n + local, local]),
            self_cols=self_cols,
            drop=drop,
            exclude_positives=exclude_positives,
        )
    else:
        check_rows("ids", ids, n, "one id per sample; equal ids are positives")
        all_ids = all_gather_no_grad(ids) if w > 1 else ids
        layout = PairLayout(
            anchor_ids=ids.repeat(2),
            cand_ids=all_ids.repeat(2),
            self_cols=self_cols,
            drop=drop,
            exclude_positives=exclude_positives,
        )
    return anchors, cands, layout


def nt_xent(
    z_a: Tensor,
    z_b: Tensor,
    temperature: float = 0.5,
    *,
    normalize: bool = True,
    ids: Tensor | None = None,
    mask: Tensor | None = None,
    chunk_size: int | None = None,
    gather: bool = False,
) -> Tensor:
    """NT-Xent: 2N anchors, each with one positive (its other view) and 2N-2 negatives.

    With ``s_ij = cos(z_i, z_j) / temperature`` over the 2N rows ``z = [z_a; z_b]`` and
    ``p(i)`` the other view of row ``i``::

        L = 1/(2N) sum_i [ -s_{i,p(i)} + log sum_{k != i} exp(s_ik) ]

    Identical embeddings give ``log(2N - 1)``. With ``ids``, every other row with the
    same id is a positive and the numerator is averaged over them (SupCon's L_out).

    Args:
        z_a: Projections of view a. Shape: (N, D).
        z_b: Projections of view b, row n the same sample as row n of z_a. Shape: (N, D).
        temperature: tau > 0; logits are scaled by 1 / tau (SimCLR: 0.5 here, 0.1-0.2
            for large batches).
        normalize: L2-normalise rows first (cosine similarity); False uses dot products.
        ids: Sample ids; rows with equal ids (duplicates) are all positives. Shape: (N,).
        mask: Known false negatives: ``mask[i, j]`` leaves sample j out of sample i's
            negatives (both views). Shape: (N, N), or (N, world_size * N) with ``gather``.
        chunk_size: Anchor rows per block of the similarity matrix (memory O(chunk * N));
            None chooses (one block when small).
        gather: Take negatives from all ranks (no-op without a process group); see
            ``contrastkit.distributed`` for the gradient convention.

    Returns:
        Scalar loss (float32 math).

    Raises:
        ValueError: If shapes differ or temperature <= 0.

    Example:
        >>> loss = nt_xent(torch.randn(8, 16), torch.randn(8, 16), temperature=0.5)
    """
    check_positive("temperature", temperature)
    check_chunk_size(chunk_size)
    with autocast_off(z_a):
        anchors, cands, layout = two_view_layout(
            z_a, z_b, normalize=normalize, gather=gather, ids=ids, mask=mask
        )
        return mean_positive_nll(
            anchors,
            cands,
            temperature=temperature,
            layout=layout,
            chunk_size=chunk_size,
            gather=gather,
        )


class NTXentLoss(LossModule, function=nt_xent):
    """Module form of :func:`nt_xent`."""
