"""SwAV swapped-prediction loss and Sinkhorn-Knopp codes (Caron et al., 2020, arXiv:2006.09882)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from contrastkit.distributed import all_reduce_max, all_reduce_sum, world_size
from contrastkit.losses.module import LossModule
from contrastkit.losses.precision import autocast_off, upcast
from contrastkit.losses.validation import check_ndim, check_positive

__all__ = ["SwAVLoss", "sinkhorn_knopp", "swav"]


@torch.no_grad()
def sinkhorn_knopp(
    scores: Tensor, *, epsilon: float = 0.05, iterations: int = 3, gather: bool = False
) -> Tensor:
    """Soft codes with equal prototype usage (SwAV Algorithm / Sec. 3.1).

    Starting from ``Q = exp(scores / epsilon)`` (B x K), alternately rescale so that every
    prototype receives mass 1/K and every sample mass 1/B; return ``B * Q`` so each row is
    a probability vector. No gradient flows through the codes.

    Args:
        scores: Prototype scores (cosine of sample and prototype). Shape: (B, K).
        epsilon: Entropy regularisation (paper: 0.05); smaller is sharper.
        iterations: Sinkhorn iterations (paper: 3).
        gather: Normalise over the batch of all ranks (no-op without a process group).

    Returns:
        Codes, rows summing to 1. Shape: (B, K), float32 math.

    Raises:
        ValueError: If ``scores`` is not (B, K) or a hyperparameter is out of range.
    """
    check_ndim("scores", scores, 2, "(B, K)")
    check_positive("epsilon", epsilon)
    if iterations < 1:
        raise ValueError(f"iterations must be >= 1, got {iterations}")

    def total(x: Tensor) -> Tensor:
        return all_reduce_sum(x) if gather else x

    with autocast_off(scores):
        logits = upcast(scores) / epsilon
        shift = all_reduce_max(logits.max()) if gather else logits.max()
        q = torch.exp(logits - shift)  # (B, K)
        n_rows = scores.shape[0] * (world_size() if gather else 1)
        n_protos = scores.shape[1]
        q /= total(q.sum())
        for _ in range(iterations):
            q /= total(q.sum(0, keepdim=True)) * n_protos  # each prototype: mass 1/K
            q /= q.sum(1, keepdim=True) * n_rows  # each sample: mass 1/B
        return q * n_rows


def swav(
    scores: Tensor,
    *,
    temperature: float = 0.1,
    epsilon: float = 0.05,
    sinkhorn_iterations: int = 3,
    assign_views: Sequence[int] = (0, 1),
    queue_scores: Tensor | None = None,
    gather: bool = False,
) -> Tensor:
    """SwAV: predict the code of one view from the scores of every other view.

    For each view ``s`` in ``assign_views`` the codes ``q_s = sinkhorn(scores_s)`` (no
    gradient) are the targets of every other view ``v``::

        L = 1/|A| sum_{s in A} 1/(V-1) sum_{v != s}
              -(1/N) sum_n sum_k q_snk log softmax(scores_vn / temperature)_k

    Args:
        scores: Prototype scores of every view (the method normalises embeddings and
            prototypes). Shape: (V, N, K).
        temperature: Softmax temperature of the predictions (paper: 0.1).
        epsilon: Sinkhorn entropy regularisation (paper: 0.05).
        sinkhorn_iterations: Sinkhorn iterations (paper: 3).
        assign_views: Views whose codes are targets (paper: the two global crops).
        queue_scores: Scores of queued past embeddings, one queue per assign view, used
            only to compute the codes. Shape: (len(assign_views), Q, K).
        gather: Sinkhorn over the batch of all ranks; the loss is this rank's mean, the
            DDP average makes it the global mean.

    Returns:
        Scalar loss (float32 math).

    Raises:
        ValueError: On bad shapes, views or hyperparameters.

    Example:
        >>> loss = swav(torch.randn(4, 8, 30).tanh())
    """
    check_ndim("scores", scores, 3, "(V, N, K)")
    check_positive("temperature", temperature)
    n_views = scores.shape[0]
    if n_views < 2:
        raise ValueError(f"swav needs V >= 2 views, got scores {tuple(scores.shape)}")
    if not assign_views or any(not 0 <= s < n_views for s in assign_views):
        raise ValueError(f"assign_views must be non-empty indices < {n_views}, got {assign_views}")
    if queue_scores is not None and (
        queue_scores.ndim != 3
        or queue_scores.shape[0] != len(assign_views)
        or queue_scores.shape[2] != scores.shape[2]
    ):
        raise ValueError(
            f"queue_scores must have shape ({len(assign_views)}, Q, {scores.shape[2]}), "
            f"got {tuple(queue_scores.shape)}"
        )
    with autocast_off(scores):
        s32 = upcast(scores)
        log_p = F.log_softmax(s32 / temperature, dim=2)  # (V, N, K)
        loss = s32.new_zeros(())
        for i, s in enumerate(assign_views):
            batch = s32[s].detach()
            if queue_scores is not None:
                batch = torch.cat([upcast(queue_scores[i]).to(batch.dtype), batch])
            q = sinkhorn_knopp(
                batch, epsilon=epsilon, iterations=sinkhorn_iterations, gather=gather
            )
            q = q[-scores.shape[1] :]  # (N, K): codes of this batch
            others = [v for v in range(n_views) if v != s]
            ce = -(q.unsqueeze(0) * log_p[others]).sum(2).mean(1)  # (V-1,)
            loss = loss + ce.mean()
        return loss / len(assign_views)


class SwAVLoss(LossModule, function=swav):
    """Module form of :func:`swav` (a queue of scores is the method's)."""
