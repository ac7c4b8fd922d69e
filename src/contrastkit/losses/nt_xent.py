"""NT-Xent, the SimCLR loss (Chen et al. 2020, arXiv:2002.05709)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def nt_xent(z_a: Tensor, z_b: Tensor, temperature: float = 0.5) -> Tensor:
    """Normalised temperature-scaled cross entropy over 2N anchors.

    With z = normalize(cat(z_a, z_b)) and s_ij = z_i . z_j / temperature, anchor i with
    positive p(i) (its other view) has loss -s_ip(i) + log sum_{j != i} exp(s_ij); the
    result is the mean over all 2N anchors.

    Args:
        z_a: Shape: (N, D), first views.
        z_b: Shape: (N, D), second views, row i pairs with z_a[i].
        temperature: > 0; logits are scaled by 1 / temperature.

    Returns:
        Scalar loss (float32).
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    if z_a.ndim != 2 or z_a.shape != z_b.shape:
        raise ValueError(
            f"z_a and z_b must both be (N, D), got {tuple(z_a.shape)} and {tuple(z_b.shape)}"
        )
    n = z_a.shape[0]
    z = F.normalize(torch.cat([z_a, z_b]).float(), dim=1)  # (2N, D)
    logits = z @ z.T / temperature  # (2N, 2N)
    self_mask = torch.eye(2 * n, dtype=torch.bool, device=z.device)
    logits = logits.masked_fill(self_mask, float("-inf"))
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
    return F.cross_entropy(logits, targets)
