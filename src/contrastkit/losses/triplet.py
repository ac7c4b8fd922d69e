"""Triplet margin loss (Schroff et al., FaceNet, 2015, arXiv:1503.03832)."""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from contrastkit.losses.miners import batch_hard, distance_weighted, semi_hard
from contrastkit.losses.module import LossModule
from contrastkit.losses.precision import autocast_off, upcast
from contrastkit.losses.validation import check_chunk_size, check_non_negative, check_pair

__all__ = ["MinedTripletLoss", "TripletLoss", "triplet"]


def triplet(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    margin: float = 0.2,
    *,
    normalize: bool = True,
) -> Tensor:
    """Triplet loss with Euclidean distances::

        L = (1/N) sum_n max(0, ||a_n - p_n|| - ||a_n - n_n|| + margin)

    Pick the triplets with a miner (:func:`~contrastkit.losses.miners.batch_hard`,
    ``semi_hard``, ``distance_weighted``) and index the embeddings with its result.

    Args:
        anchor: Shape: (N, D).
        positive: Same class as the anchor. Shape: (N, D).
        negative: Other class. Shape: (N, D).
        margin: >= 0 (FaceNet: 0.2 on unit vectors).
        normalize: L2-normalise rows first (distances in [0, 2]).

    Returns:
        Scalar loss (float32 math); 0 for N = 0 triplets.

    Raises:
        ValueError: On mismatched shapes or margin < 0.

    Example:
        >>> loss = triplet(torch.randn(8, 4), torch.randn(8, 4), torch.randn(8, 4))
    """
    check_pair("anchor", anchor, "positive", positive)
    check_pair("anchor", anchor, "negative", negative)
    check_non_negative("margin", margin)
    with autocast_off(anchor):
        a, p, n = (upcast(t).to(upcast(anchor).dtype) for t in (anchor, positive, negative))
        if normalize:
            a, p, n = (F.normalize(t, dim=1) for t in (a, p, n))
        d_ap = torch.sqrt((a - p).pow(2).sum(1).clamp_min(1e-12))
        d_an = torch.sqrt((a - n).pow(2).sum(1).clamp_min(1e-12))
        hinge = F.relu(d_ap - d_an + margin)  # (N,)
        return hinge.sum() / max(1, hinge.shape[0])


class TripletLoss(LossModule, function=triplet):
    """Module form of :func:`triplet` on given triplets."""


class MinedTripletLoss(nn.Module):
    """Mine triplets from a labelled batch, then apply :func:`triplet` to them.

    Args:
        miner: ``"batch_hard"`` (Hermans et al., arXiv:1703.07737), ``"semi_hard"``
            (FaceNet) or ``"distance_weighted"`` (Wu et al., arXiv:1706.07567).
        margin: Triplet margin (>= 0); also bounds semi-hard negatives.
        normalize: L2-normalise before mining and in the loss (distance-weighted
            sampling always works on the unit sphere).
        chunk_size: Anchor rows per block of the distance matrix while mining.
        generator: Random generator of distance-weighted sampling.
    """

    def __init__(
        self,
        *,
        miner: Literal["batch_hard", "semi_hard", "distance_weighted"] = "batch_hard",
        margin: float = 0.2,
        normalize: bool = True,
        chunk_size: int | None = None,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        if miner not in ("batch_hard", "semi_hard", "distance_weighted"):
            raise ValueError(
                f"miner must be batch_hard, semi_hard or distance_weighted, got {miner!r}"
            )
        check_non_negative("margin", margin)
        check_chunk_size(chunk_size)
        self.miner, self.margin, self.normalize = miner, margin, normalize
        self.chunk_size, self.generator = chunk_size, generator

    def forward(self, embeddings: Tensor, labels: Tensor) -> Tensor:
        if self.miner == "batch_hard":
            t = batch_hard(embeddings, labels, normalize=self.normalize, chunk_size=self.chunk_size)
        elif self.miner == "semi_hard":
            t = semi_hard(
                embeddings,
                labels,
                margin=self.margin,
                normalize=self.normalize,
                chunk_size=self.chunk_size,
            )
        else:
            t = distance_weighted(
                embeddings, labels, chunk_size=self.chunk_size, generator=self.generator
            )
        return triplet(
            embeddings[t.anchor],
            embeddings[t.positive],
            embeddings[t.negative],
            self.margin,
            normalize=self.normalize,
        )
