"""A first-in-first-out feature queue: MoCo's negatives (arXiv:1911.05722) and NNCLR's
support set (arXiv:2104.14548). The features live in buffers, so they are saved in the
checkpoint and restored by `--resume`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from contrastkit.distributed import all_gather_no_grad


class FeatureQueue(nn.Module):
    """The `size` most recent feature rows, oldest overwritten first.

    Under torch.distributed `push` gathers the rows of all ranks first, so every rank holds
    the same queue.

    Args:
        size: Number of rows kept (K).
        dim: Feature dimension (D).

    Example:
        >>> queue = FeatureQueue(size=1024, dim=64)
        >>> negatives = queue.features()   # (filled, D), a copy
        >>> queue.push(keys)                # after the step
    """

    rows: Tensor
    ptr: Tensor
    filled: Tensor

    def __init__(self, *, size: int, dim: int) -> None:
        super().__init__()
        if size < 1 or dim < 1:
            raise ValueError(f"size and dim must be >= 1, got {size}, {dim}")
        self.size, self.dim = size, dim
        self.register_buffer("rows", torch.zeros(size, dim))
        self.register_buffer("ptr", torch.zeros((), dtype=torch.long))
        self.register_buffer("filled", torch.zeros((), dtype=torch.long))

    def features(self) -> Tensor:
        """The stored rows (fewer than `size` until the queue is full), a detached copy.

        Returns:
            Shape: (filled, D).
        """
        return self.rows[: int(self.filled)].clone()

    @torch.no_grad()
    def push(self, x: Tensor) -> None:
        """Append rows (of every rank, under torch.distributed); x: Shape: (B, D)."""
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"push expects (B, {self.dim}), got {tuple(x.shape)}")
        x = all_gather_no_grad(x.detach().to(self.rows.dtype))[-self.size :]
        n = x.shape[0]
        idx = (int(self.ptr) + torch.arange(n, device=x.device)) % self.size
        self.rows[idx] = x
        self.ptr.fill_((int(self.ptr) + n) % self.size)
        self.filled.fill_(min(int(self.filled) + n, self.size))


def nearest_neighbours(z: Tensor, support: Tensor) -> Tensor:
    """For each row of `z`, the most cosine-similar row of `support` (NNCLR's positive).

    Args:
        z: Shape: (B, D).
        support: Shape: (K, D), K >= 1.

    Returns:
        Shape: (B, D), rows of `support` (no gradient).
    """
    if z.ndim != 2 or support.ndim != 2 or z.shape[1] != support.shape[1] or len(support) == 0:
        raise ValueError(
            f"z (B, D) and a non-empty support (K, D) must share D, got {tuple(z.shape)} and "
            f"{tuple(support.shape)}"
        )
    sims = F.normalize(z.detach().float(), dim=1) @ F.normalize(support.float(), dim=1).T  # (B, K)
    return support[sims.argmax(dim=1)].detach()
