"""The only module that talks to ``torch.distributed``.

Without a process group every function is a no-op: ``rank() == 0``, ``world_size() == 1``
and the collectives return their input, so library code calls them unconditionally.

Gradient convention (the one DDP uses): DDP *averages* parameter gradients over ranks.
A loss that gathers embeddings with :func:`all_gather_with_grad` therefore returns, on each
rank, ``world_size * (this rank's share of the global loss)``; the autograd all-gather
sums the gradients that every rank sends back to a rank's own embeddings. The input
gradient on rank ``r`` is then ``world_size * d(global loss)/d(x_r)``, and after DDP's
average the parameter gradient equals the one of a single process holding the global
batch. The loss value averaged over ranks equals the global loss.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import Tensor

__all__ = [
    "all_gather_no_grad",
    "all_gather_with_grad",
    "all_reduce_max",
    "all_reduce_sum",
    "is_distributed",
    "rank",
    "world_size",
]


def is_distributed() -> bool:
    """True when a default process group exists."""
    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    """Rank of this process in the default group (0 without a process group)."""
    return dist.get_rank() if is_distributed() else 0


def world_size() -> int:
    """Number of processes in the default group (1 without a process group)."""
    return dist.get_world_size() if is_distributed() else 1


def all_gather_with_grad(x: Tensor) -> Tensor:
    """Concatenate ``x`` from all ranks along dim 0, differentiably.

    Uses ``torch.distributed.nn.functional.all_gather`` (an autograd collective): the
    backward pass sums, over ranks, the gradients flowing into this rank's slice.

    Args:
        x: Tensor of the same shape on every rank. Shape: (N, ...).

    Returns:
        The rank-ordered concatenation. Shape: (world_size * N, ...); ``x`` itself
        without a process group.
    """
    if world_size() == 1:
        return x
    from torch.distributed.nn.functional import all_gather

    return torch.cat(all_gather(x.contiguous()), dim=0)


@torch.no_grad()
def all_gather_no_grad(x: Tensor) -> Tensor:
    """Concatenate ``x`` (labels, ids, statistics) from all ranks along dim 0, no gradient.

    Args:
        x: Tensor of the same shape on every rank. Shape: (N, ...).

    Returns:
        Shape: (world_size * N, ...); ``x`` itself without a process group.
    """
    if world_size() == 1:
        return x
    parts = [torch.empty_like(x) for _ in range(world_size())]
    dist.all_gather(parts, x.contiguous())
    return torch.cat(parts, dim=0)


def all_reduce_sum(x: Tensor) -> Tensor:
    """Sum of ``x`` over ranks (a new tensor, no gradient); ``x`` without a process group."""
    return _all_reduce(x, dist.ReduceOp.SUM)


def all_reduce_max(x: Tensor) -> Tensor:
    """Elementwise max of ``x`` over ranks (a new tensor, no gradient)."""
    return _all_reduce(x, dist.ReduceOp.MAX)


@torch.no_grad()
def _all_reduce(x: Tensor, op: dist.ReduceOp.RedOpType) -> Tensor:
    if world_size() == 1:
        return x
    out = x.clone()
    dist.all_reduce(out, op=op)
    return out
