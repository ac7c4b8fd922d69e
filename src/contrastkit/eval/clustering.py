"""Clustering agreement of embeddings with labels: k-means, then NMI and ARI."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from torch import Tensor

from contrastkit.eval.kmeans import kmeans


def kmeans_assign(z: Tensor, *, num_clusters: int, seed: int = 0) -> Tensor:
    """k-means (10 restarts, `kmeans.kmeans` on `z`'s device) cluster index of each
    L2-normalised embedding.

    Args:
        z: Shape: (N, D).

    Returns:
        Shape: (N,), int64 in [0, num_clusters), on `z`'s device.
    """
    if z.ndim != 2 or z.shape[0] < num_clusters:
        raise ValueError(f"need z (N, D) with N >= {num_clusters} clusters, got {tuple(z.shape)}")
    x = z.detach() if z.dtype == torch.float64 else z.detach().float()
    return kmeans(F.normalize(x, dim=1), num_clusters=num_clusters, seed=seed)


def kmeans_scores(
    z: Tensor, labels: Tensor, *, num_clusters: int, seed: int = 0
) -> dict[str, float]:
    """NMI (arithmetic normalisation) and adjusted Rand index of k-means clusters vs labels.

    Both are 1 for clusters equal to the classes up to renaming; ARI is about 0 for a
    random assignment, NMI is 0 only for independent ones (Hubert & Arabie 1985 for ARI).

    Args:
        z: Shape: (N, D).
        labels: Shape: (N,).
    """
    assigned = kmeans_assign(z, num_clusters=num_clusters, seed=seed).cpu().numpy()
    truth = labels.cpu().numpy()
    return {
        "nmi": float(normalized_mutual_info_score(truth, assigned)),
        "ari": float(adjusted_rand_score(truth, assigned)),
    }


def kmeans_nmi(z: Tensor, labels: Tensor, *, num_clusters: int, seed: int = 0) -> float:
    """NMI between k-means clusters of the L2-normalised embeddings and the labels."""
    return kmeans_scores(z, labels, num_clusters=num_clusters, seed=seed)["nmi"]
