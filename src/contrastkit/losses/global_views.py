"""The two views a loss over batch statistics reads (Barlow Twins, VICReg): upcast to
float32, and with `gather` the batch of every rank, so that the statistics are the global
batch's (see ``contrastkit.distributed`` for the gradient convention)."""

from __future__ import annotations

from torch import Tensor

from contrastkit.distributed import all_gather_with_grad
from contrastkit.losses.precision import upcast


def global_views(z_a: Tensor, z_b: Tensor, *, gather: bool) -> tuple[Tensor, Tensor]:
    """Both views in float32 (float64 stays), gathered from all ranks when `gather` (a
    no-op without a process group). Shape: (N, D) each -> (world_size * N, D) each."""
    a, b = upcast(z_a), upcast(z_b)
    if gather:
        a, b = all_gather_with_grad(a), all_gather_with_grad(b)
    return a, b
