"""SimCLR on a network without batch statistics, for the GradCache trainer tests: a chunk
is normalised as the whole batch is, so the cached step's gradient is the plain step's."""

from __future__ import annotations

import torch
from torch import nn

from contrastkit.methods.simclr import SimCLR


def no_batch_stats() -> SimCLR:
    """SimCLR on an MLP without BatchNorm."""
    torch.manual_seed(0)
    encoder = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.GELU(), nn.Linear(32, 16))
    head = nn.Sequential(nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 8))
    return SimCLR(encoder, head, temperature=0.3)
