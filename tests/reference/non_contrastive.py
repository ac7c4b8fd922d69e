"""Slow NumPy references for the non-contrastive losses, from the papers' pseudocode."""

from __future__ import annotations

import math

import numpy as np


def barlow_twins(z_a: np.ndarray, z_b: np.ndarray, lambd: float, eps: float = 1e-5) -> float:
    """Barlow Twins Algorithm 1 (BatchNorm without affine: biased variance)."""
    n, d = z_a.shape

    def bn(z: np.ndarray) -> np.ndarray:
        return (z - z.mean(0)) / np.sqrt(z.var(0) + eps)

    a, b = bn(z_a), bn(z_b)
    total = 0.0
    for i in range(d):
        for j in range(d):
            c = sum(a[k, i] * b[k, j] for k in range(n)) / n
            total += (1 - c) ** 2 if i == j else lambd * c * c
    return total


def vicreg(
    z_a: np.ndarray, z_b: np.ndarray, lam: float, mu: float, nu: float, eps: float = 1e-4
) -> float:
    """VICReg Algorithm 1 of the paper's appendix (variance term averaged over branches)."""
    n, d = z_a.shape
    inv = float(np.mean((z_a - z_b) ** 2))

    def var_term(z: np.ndarray) -> float:
        std = np.sqrt(z.var(0, ddof=1) + eps)
        return float(np.mean(np.maximum(0.0, 1.0 - std)))

    def cov_term(z: np.ndarray) -> float:
        zc = z - z.mean(0)
        total = 0.0
        for i in range(d):
            for j in range(d):
                if i != j:
                    total += (float(np.dot(zc[:, i], zc[:, j])) / (n - 1)) ** 2
        return total / d

    var = (var_term(z_a) + var_term(z_b)) / 2
    return lam * inv + mu * var + nu * (cov_term(z_a) + cov_term(z_b))


def byol(p: np.ndarray, z: np.ndarray) -> float:
    """BYOL eq. (2): ||p/|p| - z/|z| ||^2, mean over the batch."""
    vals = [
        float(np.sum((p[i] / np.linalg.norm(p[i]) - z[i] / np.linalg.norm(z[i])) ** 2))
        for i in range(len(p))
    ]
    return float(np.mean(vals))


def sinkhorn(scores: np.ndarray, epsilon: float, iterations: int) -> np.ndarray:
    """SwAV Algorithm 1 (distributed_sinkhorn on one process)."""
    q = np.exp(scores / epsilon).T  # K x B
    k, b = q.shape
    q /= q.sum()
    for _ in range(iterations):
        q /= q.sum(axis=1, keepdims=True)
        q /= k
        q /= q.sum(axis=0, keepdims=True)
        q /= b
    return (q * b).T


def swav(scores: np.ndarray, temperature: float, epsilon: float, iterations: int) -> float:
    """SwAV loss over views, codes from views 0 and 1 (main_swav.py)."""
    v = scores.shape[0]
    loss = 0.0
    for s in (0, 1):
        q = sinkhorn(scores[s], epsilon, iterations)
        sub = 0.0
        for x in range(v):
            if x == s:
                continue
            logits = scores[x] / temperature
            logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
            sub -= float(np.mean(np.sum(q * logp, axis=1)))
        loss += sub / (v - 1)
    return loss / 2


def dino(
    student: np.ndarray,
    teacher: np.ndarray,
    center: np.ndarray,
    t_student: float,
    t_teacher: float,
) -> float:
    """DINO Algorithm 1 generalised to the multi-crop loop of DINOLoss.forward."""
    total, terms = 0.0, 0
    for iq in range(teacher.shape[0]):
        t = (teacher[iq] - center) / t_teacher
        q = np.exp(t - t.max(axis=1, keepdims=True))
        q /= q.sum(axis=1, keepdims=True)
        for v in range(student.shape[0]):
            if v == iq:
                continue
            s = student[v] / t_student
            logp = s - s.max(axis=1, keepdims=True)
            logp -= np.log(np.exp(logp).sum(axis=1, keepdims=True))
            total += float(np.mean(-np.sum(q * logp, axis=1)))
            terms += 1
    return total / terms


def distance_weights(x: np.ndarray, anchor: int, negatives: list[int], cutoff: float, nz: float):
    """Sampling Matters eq. (4): weight 1/q(d) for negatives with d < nonzero cutoff."""
    d_dim = x.shape[1]
    w = {}
    for j in negatives:
        d = float(np.linalg.norm(x[anchor] - x[j]))
        if d >= nz:
            continue
        dc = max(d, cutoff)
        log_q = (d_dim - 2) * math.log(dc) + (d_dim - 3) / 2 * math.log(1 - dc * dc / 4)
        w[j] = math.exp(-log_q)
    total = sum(w.values())
    return {j: v / total for j, v in w.items()}
