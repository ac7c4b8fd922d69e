"""EMA teachers and momentum schedules (BYOL arXiv:2006.07733, MoCo arXiv:1911.05722, DINO
arXiv:2104.14294): explicit state, updated by the method after each optimizer step.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import Tensor, nn


def cosine_momentum(progress: float, *, base: float, final: float = 1.0) -> float:
    """BYOL's schedule: tau(p) = final - (final - base) * (cos(pi * p) + 1) / 2, p in [0, 1].

    Starts at `base` (p = 0) and rises to `final` (p = 1).
    """
    if not 0.0 <= base <= final <= 1.0:
        raise ValueError(f"need 0 <= base <= final <= 1, got base={base}, final={final}")
    p = min(max(progress, 0.0), 1.0)
    return final - (final - base) * (math.cos(math.pi * p) + 1.0) / 2.0


def linear_warmup(progress: float, *, start: float, end: float, fraction: float) -> float:
    """`start` -> `end` linearly over the first `fraction` of training, then `end` (DINO's
    teacher-temperature warm-up)."""
    if fraction <= 0.0 or progress >= fraction:
        return end
    return start + (end - start) * max(progress, 0.0) / fraction


@torch.no_grad()
def ema_(target: Tensor, source: Tensor, momentum: float) -> None:
    """In place: target <- momentum * target + (1 - momentum) * source."""
    target.mul_(momentum).add_(source.detach().to(target.dtype), alpha=1.0 - momentum)


class EMATeacher(nn.Module):
    """A frozen copy of a student network that follows it by exponential moving average.

    theta_t <- m * theta_t + (1 - m) * theta_s after each step; buffers (BatchNorm running
    statistics) are copied. The copy's parameters do not require gradients, so the
    optimizer skips them, and they are saved in the method's `state_dict`.

    Example:
        >>> teacher = EMATeacher(student)
        >>> with torch.no_grad():
        ...     target = teacher(views)
        >>> teacher.update(student, momentum=0.99)   # after optimizer.step()
    """

    def __init__(self, student: nn.Module) -> None:
        super().__init__()
        self.net = copy.deepcopy(student)
        for param in self.net.parameters():
            param.requires_grad_(False)

    def forward(self, x: Tensor) -> Tensor:
        with torch.no_grad():
            out: Tensor = self.net(x)
        return out

    @torch.no_grad()
    def update(self, student: nn.Module, momentum: float) -> None:
        """Move the teacher towards `student` (same architecture) by `1 - momentum`."""
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"momentum must be in [0, 1], got {momentum}")
        for t, s in zip(self.net.parameters(), student.parameters(), strict=True):
            ema_(t, s, momentum)
        for buf, src in zip(self.net.buffers(), student.buffers(), strict=True):
            buf.copy_(src)
