"""k-means in torch, on the embeddings' device: k-means++ seeding and Lloyd's iterations for
several restarts at once, the restart of least inertia kept (scikit-learn's `KMeans`
algorithm: greedy k-means++ with 2 + ln k candidates per centre, Arthur & Vassilvitskii
2007; stop when no label changes or the centres move less than tol x the mean feature
variance; an empty cluster takes the point farthest from its centre).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def _sq_dists(x: Tensor, x_sq: Tensor, centers: Tensor) -> Tensor:
    """Squared Euclidean distances. x: (N, D), x_sq: (N,), centers: (R, K, D) -> (R, N, K)."""
    cross = torch.einsum("nd,rkd->rnk", x, centers)  # n: point, k: centre, r: restart
    c_sq = centers.pow(2).sum(dim=2)  # (R, K)
    return (x_sq[None, :, None] - 2 * cross + c_sq[:, None, :]).clamp(min=0)


def _seed_centers(x: Tensor, x_sq: Tensor, k: int, restarts: int, gen: torch.Generator) -> Tensor:
    """Greedy k-means++ centres of each restart. Returns Shape: (R, K, D)."""
    n, device = x.shape[0], x.device
    trials = 2 + int(math.log(k))
    rows = torch.arange(restarts, device=device)
    chosen = torch.empty(restarts, k, dtype=torch.long, device=device)
    chosen[:, 0] = torch.randint(n, (restarts,), generator=gen, device=device)
    closest = _sq_dists(x, x_sq, x[chosen[:, :1]])[:, :, 0]  # (R, N)
    for c in range(1, k):
        pot = closest.sum(dim=1, keepdim=True)  # (R, 1)
        draws = torch.rand(restarts, trials, generator=gen, device=device).to(x.dtype) * pot
        cand = torch.searchsorted(closest.cumsum(dim=1), draws).clamp(max=n - 1)  # (R, T)
        to_cand = _sq_dists(x, x_sq, x[cand]).transpose(1, 2)  # (R, T, N)
        to_cand = torch.minimum(to_cand, closest[:, None])
        best = to_cand.sum(dim=2).argmin(dim=1)  # (R,)
        closest = to_cand[rows, best]
        chosen[:, c] = cand[rows, best]
    return x[chosen]


def _relocate_empty(
    x: Tensor, dists: Tensor, labels: Tensor, counts: Tensor, means: Tensor
) -> Tensor:
    """Centres (R, K, D) with each empty cluster moved onto a point far from its own centre,
    the farthest first (scikit-learn's relocation). dists: (R, N, K), labels: (R, N)."""
    empty = counts == 0  # (R, K)
    if not bool(empty.any()):
        return means
    means = means.clone()
    own = dists.gather(2, labels[:, :, None])[:, :, 0]  # (R, N)
    for r in torch.nonzero(empty.any(dim=1)).flatten().tolist():
        clusters = torch.nonzero(empty[r]).flatten()
        means[r, clusters] = x[own[r].topk(len(clusters)).indices]
    return means


def kmeans(
    z: Tensor,
    *,
    num_clusters: int,
    restarts: int = 10,
    max_iter: int = 300,
    tol: float = 1e-4,
    seed: int = 0,
) -> Tensor:
    """Cluster index of each row of `z`: the best of `restarts` k-means runs (module doc).

    Runs on `z`'s device in float32 (float64 for float64 input); deterministic under `seed`
    on a given device.

    Args:
        z: Shape: (N, D), N >= num_clusters.
        num_clusters: K >= 1.
        restarts: Independent k-means++ seedings, run together.
        max_iter: Lloyd iterations at most.
        tol: Stop a restart when its centres' squared shift is <= tol x mean feature variance.

    Returns:
        Shape: (N,), int64 in [0, num_clusters).
    """
    if z.ndim != 2 or z.shape[0] < num_clusters or num_clusters < 1:
        raise ValueError(f"need z (N, D) with N >= {num_clusters} clusters, got {tuple(z.shape)}")
    x = z.detach().to(torch.float64 if z.dtype == torch.float64 else torch.float32)
    x = x - x.mean(dim=0)  # as scikit-learn: fewer rounding errors, same clusters
    x_sq = x.pow(2).sum(dim=1)
    gen = torch.Generator(device=x.device).manual_seed(seed)
    centers = _seed_centers(x, x_sq, num_clusters, restarts, gen)
    threshold = tol * float(x.var(dim=0, unbiased=False).mean())
    dists = _sq_dists(x, x_sq, centers)  # (R, N, K)
    labels = dists.argmin(dim=2)  # (R, N)
    active = torch.ones(restarts, dtype=torch.bool, device=x.device)
    for _ in range(max_iter):
        one_hot = torch.nn.functional.one_hot(labels, num_clusters).to(x.dtype)  # (R, N, K)
        counts = one_hot.sum(dim=1)  # (R, K)
        means = (one_hot.transpose(1, 2) @ x) / counts.clamp(min=1)[:, :, None]  # (R, K, D)
        means = _relocate_empty(x, dists, labels, counts, means)
        shift = (means - centers).pow(2).sum(dim=(1, 2))  # (R,)
        centers = torch.where(active[:, None, None], means, centers)
        dists = _sq_dists(x, x_sq, centers)
        new_labels = dists.argmin(dim=2)
        done = (new_labels == labels).all(dim=1) | (shift <= threshold)
        labels = torch.where(active[:, None], new_labels, labels)
        active &= ~done
        if not bool(active.any()):
            break
    inertia = dists.gather(2, labels[:, :, None]).sum(dim=(1, 2))  # (R,)
    return labels[inertia.argmin()]
