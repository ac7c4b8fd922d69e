"""Slow NumPy references for the triplet miners (loops over anchors and pairs)."""

from __future__ import annotations

import numpy as np


def distances(x: np.ndarray) -> np.ndarray:
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    n = len(x)
    return np.array([[np.linalg.norm(x[i] - x[j]) for j in range(n)] for i in range(n)])


def batch_hard(x: np.ndarray, labels: np.ndarray) -> set[tuple[int, int, int]]:
    """Hermans et al. eq. (5): hardest positive and hardest negative per anchor."""
    d = distances(x)
    out = set()
    for i in range(len(x)):
        pos = [j for j in range(len(x)) if j != i and labels[j] == labels[i]]
        neg = [j for j in range(len(x)) if labels[j] != labels[i]]
        if pos and neg:
            out.add((i, max(pos, key=lambda j: d[i, j]), min(neg, key=lambda j: d[i, j])))
    return out


def semi_hard(x: np.ndarray, labels: np.ndarray, margin: float) -> set[tuple[int, int, int]]:
    """FaceNet eq. (4): d(a,p) < d(a,n) < d(a,p) + margin, closest such negative."""
    d = distances(x)
    out = set()
    for i in range(len(x)):
        for p in range(len(x)):
            if p == i or labels[p] != labels[i]:
                continue
            band = [
                j
                for j in range(len(x))
                if labels[j] != labels[i] and d[i, p] < d[i, j] < d[i, p] + margin
            ]
            if band:
                out.add((i, p, min(band, key=lambda j: d[i, j])))
    return out
