"""Clustering agreement of embeddings with labels: k-means, then NMI and ARI."""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.preprocessing import normalize


def kmeans_assign(z: np.ndarray, *, num_clusters: int, seed: int = 0) -> np.ndarray:
    """k-means (10 restarts) cluster index of each L2-normalised embedding.

    Args:
        z: Shape: (N, D).

    Returns:
        Shape: (N,), ints in [0, num_clusters).
    """
    if z.ndim != 2 or z.shape[0] < num_clusters:
        raise ValueError(f"need z (N, D) with N >= {num_clusters} clusters, got {z.shape}")
    return np.asarray(
        KMeans(n_clusters=num_clusters, n_init=10, random_state=seed).fit_predict(normalize(z))
    )


def kmeans_scores(
    z: np.ndarray, labels: np.ndarray, *, num_clusters: int, seed: int = 0
) -> dict[str, float]:
    """NMI (arithmetic normalisation) and adjusted Rand index of k-means clusters vs labels.

    Both are 1 for clusters equal to the classes up to renaming; ARI is about 0 for a
    random assignment, NMI is 0 only for independent ones (Hubert & Arabie 1985 for ARI).

    Args:
        z: Shape: (N, D).
        labels: Shape: (N,).
    """
    assigned = kmeans_assign(z, num_clusters=num_clusters, seed=seed)
    return {
        "nmi": float(normalized_mutual_info_score(labels, assigned)),
        "ari": float(adjusted_rand_score(labels, assigned)),
    }


def kmeans_nmi(z: np.ndarray, labels: np.ndarray, *, num_clusters: int, seed: int = 0) -> float:
    """NMI between k-means clusters of the L2-normalised embeddings and the labels."""
    return kmeans_scores(z, labels, num_clusters=num_clusters, seed=seed)["nmi"]
