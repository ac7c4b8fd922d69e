"""Label-free measures of an embedding's health: spread, rank, alignment, uniformity."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def rankme(z: Tensor, eps: float = 1e-7) -> float:
    """Effective rank exp(H(p)), p = singular values / their sum (Garrido et al. 2023,
    arXiv:2210.02885). Between 1 (collapsed to a line) and min(N, D).

    Args:
        z: Shape: (N, D).
    """
    s = torch.linalg.svdvals(z.double())
    p = s / s.sum() + eps
    return float(torch.exp(-(p * p.log()).sum()))


def embedding_std(z: Tensor) -> float:
    """Mean per-dimension std of the L2-normalised embeddings (SimSiam, arXiv:2011.10566);
    about 1/sqrt(D) when spread out, 0 when collapsed. z: Shape: (N, D)."""
    return float(F.normalize(z.float(), dim=1).std(dim=0).mean())


def alignment(z_a: Tensor, z_b: Tensor, alpha: float = 2.0) -> float:
    """E ||f(x) - f(y)||^alpha over positive pairs of normalised embeddings (Wang & Isola
    2020, arXiv:2005.10242); lower is better. z_a, z_b: Shape: (N, D)."""
    a, b = F.normalize(z_a.float(), dim=1), F.normalize(z_b.float(), dim=1)
    return float((a - b).norm(dim=1).pow(alpha).mean())


def uniformity(z: Tensor, t: float = 2.0) -> float:
    """log E exp(-t ||f(x) - f(y)||^2) over distinct pairs (arXiv:2005.10242); lower is
    more uniform. z: Shape: (N, D)."""
    zn = F.normalize(z.float(), dim=1)
    sq_dists = torch.pdist(zn).pow(2)
    return float(sq_dists.mul(-t).exp().mean().log())
