"""Clustering agreement of embeddings with labels."""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import normalized_mutual_info_score
from sklearn.preprocessing import normalize


def kmeans_nmi(z: np.ndarray, labels: np.ndarray, *, num_clusters: int, seed: int = 0) -> float:
    """NMI between k-means clusters of the L2-normalised embeddings and the labels."""
    assigned = KMeans(n_clusters=num_clusters, n_init=10, random_state=seed).fit_predict(
        normalize(z)
    )
    return float(normalized_mutual_info_score(labels, assigned))
