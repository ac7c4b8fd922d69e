"""2-D projections of embeddings for maps: PCA (always) and UMAP (the `viz` extra)."""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA
from sklearn.preprocessing import normalize


def pca_2d(z: np.ndarray) -> np.ndarray:
    """The first two principal components of the L2-normalised embeddings.

    Args:
        z: Shape: (N, D).

    Returns:
        Shape: (N, 2).
    """
    if z.ndim != 2 or z.shape[0] < 3:
        raise ValueError(f"need z (N, D) with N >= 3, got {z.shape}")
    return np.asarray(PCA(n_components=2).fit_transform(normalize(z)))


def umap_2d(z: np.ndarray, *, seed: int = 0, n_neighbors: int = 15) -> np.ndarray:
    """UMAP (McInnes et al. 2018, arXiv:1802.03426) of the embeddings, cosine metric.

    umap-learn is imported here, lazily: it is slow to import and only in the `viz` extra.

    Raises:
        ImportError: umap-learn is not installed (`pip install contrastkit[viz]`).
    """
    import umap  # noqa: PLC0415

    reducer = umap.UMAP(
        n_components=2,
        n_neighbors=min(n_neighbors, len(z) - 1),
        metric="cosine",
        random_state=seed,
        n_jobs=1,
    )
    return np.asarray(reducer.fit_transform(z))
