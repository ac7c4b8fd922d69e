"""Triplet miners: index triplets (anchor, positive, negative) from a labelled batch.

Miners run without gradient over the distance matrix in row blocks (memory
O(block x N)); the loss then recomputes the chosen distances with gradient.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

from contrastkit.losses.blocked import block_rows
from contrastkit.losses.precision import autocast_off, upcast
from contrastkit.losses.validation import (
    check_chunk_size,
    check_ndim,
    check_non_negative,
    check_positive,
    check_rows,
)

__all__ = ["Triplets", "batch_hard", "distance_weighted", "semi_hard"]


class Triplets(NamedTuple):
    """Row indices of mined triplets, each (T,) long."""

    anchor: Tensor
    positive: Tensor
    negative: Tensor


def _prepare(embeddings: Tensor, labels: Tensor, normalize: bool) -> Tensor:
    check_ndim("embeddings", embeddings, 2, "(N, D)")
    check_rows("labels", labels, embeddings.shape[0], "one class label per embedding")
    if labels.dtype.is_floating_point or labels.dtype == torch.bool:
        raise ValueError(f"labels must be an integer tensor, got {labels.dtype}")
    x = upcast(embeddings.detach())
    return F.normalize(x, dim=1) if normalize else x


def _blocks(
    x: Tensor, labels: Tensor, chunk_size: int | None
) -> Iterator[tuple[Tensor, Tensor, Tensor, Tensor]]:
    """Yield (rows, distances (b, N), positive mask, negative mask) per row block."""
    n = x.shape[0]
    sq = x.pow(2).sum(1)  # (N,)
    step = block_rows(n, n, chunk_size)
    for start in range(0, n, step):
        rows = torch.arange(start, min(n, start + step), device=x.device)
        d2 = sq[rows, None] + sq[None, :] - 2 * x[rows] @ x.T  # (b, N)
        dist = d2.clamp_min(0).sqrt()
        same = labels[rows, None] == labels[None, :]
        pos = same.clone()
        pos[torch.arange(rows.shape[0], device=x.device), rows] = False  # not itself
        yield rows, dist, pos, ~same


def _empty(device: torch.device) -> Triplets:
    e = torch.empty(0, dtype=torch.long, device=device)
    return Triplets(e, e, e)


def _cat(parts: list[Triplets], device: torch.device) -> Triplets:
    if not parts:
        return _empty(device)
    return Triplets(*(torch.cat(cols) for cols in zip(*parts, strict=True)))


@torch.no_grad()
def batch_hard(
    embeddings: Tensor, labels: Tensor, *, normalize: bool = True, chunk_size: int | None = None
) -> Triplets:
    """Batch-hard mining (Hermans et al., 2017, arXiv:1703.07737).

    For every anchor with a positive and a negative in the batch: its farthest positive
    and its closest negative, ``(i, argmax_{p in P(i)} d_ip, argmin_{n in N(i)} d_in)``.

    Args:
        embeddings: Shape: (N, D).
        labels: Integer class labels. Shape: (N,).
        normalize: L2-normalise before measuring distances.
        chunk_size: Anchor rows per block of the distance matrix; None chooses.

    Returns:
        :class:`Triplets`, one per usable anchor.

    Raises:
        ValueError: On bad shapes or non-integer labels.
    """
    check_chunk_size(chunk_size)
    with autocast_off(embeddings):
        x = _prepare(embeddings, labels, normalize)
        parts = []
        for rows, dist, pos, neg in _blocks(x, labels, chunk_size):
            hard_pos = torch.where(pos, dist, -math.inf).argmax(1)
            hard_neg = torch.where(neg, dist, math.inf).argmin(1)
            ok = pos.any(1) & neg.any(1)
            parts.append(Triplets(rows[ok], hard_pos[ok], hard_neg[ok]))
        return _cat(parts, embeddings.device)


@torch.no_grad()
def semi_hard(
    embeddings: Tensor,
    labels: Tensor,
    *,
    margin: float = 0.2,
    normalize: bool = True,
    chunk_size: int | None = None,
) -> Triplets:
    """Semi-hard mining (Schroff et al., FaceNet, 2015, arXiv:1503.03832).

    For every positive pair ``(a, p)``: the closest negative that is farther than the
    positive but inside the margin, ``d_ap < d_an < d_ap + margin``; pairs without one
    are skipped.

    Args:
        embeddings: Shape: (N, D).
        labels: Integer class labels. Shape: (N,).
        margin: Width of the semi-hard band (>= 0), the triplet margin.
        normalize: L2-normalise before measuring distances.
        chunk_size: Anchor rows per block of the distance matrix; None chooses.

    Returns:
        :class:`Triplets`, one per positive pair that has a semi-hard negative.

    Raises:
        ValueError: On bad shapes, labels or margin.
    """
    check_non_negative("margin", margin)
    check_chunk_size(chunk_size)
    with autocast_off(embeddings):
        x = _prepare(embeddings, labels, normalize)
        parts = []
        for rows, dist, pos, neg in _blocks(x, labels, chunk_size):
            pairs_r, pairs_p = pos.nonzero(as_tuple=True)  # positive pairs of this block
            step = block_rows(pairs_r.shape[0], x.shape[0], chunk_size)
            for lo in range(0, pairs_r.shape[0], step):  # memory O(step x N)
                r, p = pairs_r[lo : lo + step], pairs_p[lo : lo + step]
                d_ap = dist[r, p, None]  # (P, 1)
                d_an = dist[r]  # (P, N)
                band = neg[r] & (d_an > d_ap) & (d_an < d_ap + margin)
                choice = torch.where(band, d_an, math.inf).argmin(1)
                ok = band.any(1)
                parts.append(Triplets(rows[r[ok]], p[ok], choice[ok]))
        return _cat(parts, embeddings.device)


@torch.no_grad()
def distance_weighted(
    embeddings: Tensor,
    labels: Tensor,
    *,
    cutoff: float = 0.5,
    nonzero_loss_cutoff: float = 1.4,
    chunk_size: int | None = None,
    generator: torch.Generator | None = None,
) -> Triplets:
    """Distance-weighted sampling (Wu et al., "Sampling Matters", 2017, arXiv:1706.07567).

    On the unit sphere in D dimensions pairwise distances have density
    ``q(d) ~ d^(D-2) (1 - d^2/4)^((D-3)/2)``. For every positive pair ``(a, p)`` one
    negative is drawn with probability ``~ 1 / q(max(d_an, cutoff))``, restricted to
    negatives with ``d_an < nonzero_loss_cutoff``; if there is none, uniformly among the
    anchor's negatives. Embeddings are always L2-normalised here.

    Args:
        embeddings: Shape: (N, D).
        labels: Integer class labels. Shape: (N,).
        cutoff: Distances are clipped below at this value (paper: 0.5).
        nonzero_loss_cutoff: Negatives at least this far are not sampled (paper: 1.4).
        chunk_size: Anchor rows per block of the distance matrix; None chooses.
        generator: Random generator for reproducible sampling.

    Returns:
        :class:`Triplets`, one per positive pair whose anchor has a negative.

    Raises:
        ValueError: On bad shapes, labels or cutoffs.
    """
    check_positive("cutoff", cutoff)
    check_positive("nonzero_loss_cutoff", nonzero_loss_cutoff)
    check_chunk_size(chunk_size)
    with autocast_off(embeddings):
        x = _prepare(embeddings, labels, normalize=True)
        dim = x.shape[1]
        parts = []
        for rows, dist, pos, neg in _blocks(x, labels, chunk_size):
            d = dist.clamp(min=cutoff, max=2.0 - 1e-6)
            log_w = -(dim - 2) * d.log() - (dim - 3) / 2 * torch.log1p(-d.pow(2) / 4)
            allowed = neg & (dist < nonzero_loss_cutoff)
            log_w = torch.where(allowed, log_w, -math.inf)
            # rows with no allowed negative fall back to uniform over negatives
            fallback = torch.where(neg, 0.0, -math.inf)
            log_w = torch.where(allowed.any(1, keepdim=True), log_w, fallback)
            ok_rows = neg.any(1)
            probs = torch.softmax(torch.where(ok_rows[:, None], log_w, 0.0), dim=1)  # (b, N)
            use = pos & ok_rows[:, None]
            r, p = use.nonzero(as_tuple=True)
            if r.numel() == 0:
                continue
            # One draw (with replacement) per positive pair: the k-th positive of row r
            # takes draw k of that row, so memory stays O(block x N).
            per_row = int(use.sum(1).max())
            draws = torch.multinomial(probs, per_row, replacement=True, generator=generator)
            kth = (use.cumsum(1) - 1)[r, p]
            parts.append(Triplets(rows[r], p, draws[r, kth]))
        return _cat(parts, embeddings.device)
