"""Slow, obvious NumPy references for the contrastive losses, written from the papers.

Loops over anchors and candidates on purpose; float64 throughout. They share no code
with ``contrastkit.losses``.
"""

from __future__ import annotations

import math

import numpy as np


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _log_sum_exp(values: list[float]) -> float:
    m = max(values)
    return m + math.log(sum(math.exp(v - m) for v in values))


def multi_positive_ce(
    z: np.ndarray,
    cands: np.ndarray,
    scale: float,
    positives: list[list[int]],
    excluded: list[set[int]],
    positive_weight: list[float] | None = None,
) -> float:
    """mean over anchors with positives of  -w_i mean_{p} s_ip + log sum_{j kept} exp(s_ij)."""
    losses = []
    for i in range(len(z)):
        if not positives[i]:
            continue
        s = [scale * float(np.dot(z[i], c)) for c in cands]
        kept = [s[j] for j in range(len(cands)) if j not in excluded[i]]
        pos = sum(s[p] for p in positives[i]) / len(positives[i])
        w = 1.0 if positive_weight is None else positive_weight[i]
        losses.append(-w * pos + _log_sum_exp(kept))
    return float(np.mean(losses)) if losses else 0.0


def nt_xent(
    z_a: np.ndarray,
    z_b: np.ndarray,
    temperature: float,
    ids: np.ndarray | None = None,
    mask: np.ndarray | None = None,
) -> float:
    """SimCLR eq. (1): l(i, j) = -log exp(s_ij/t) / sum_{k != i} exp(s_ik/t), mean over 2N."""
    n = len(z_a)
    z = unit(np.concatenate([z_a, z_b]))
    sample = list(range(n)) * 2
    ident = sample if ids is None else [int(ids[k]) for k in sample]
    positives, excluded = [], []
    for i in range(2 * n):
        pos = [j for j in range(2 * n) if j != i and ident[j] == ident[i]]
        drop = {i}
        if mask is not None:
            drop |= {j for j in range(2 * n) if mask[sample[i], sample[j]] and j not in pos}
        positives.append(pos)
        excluded.append(drop)
    return multi_positive_ce(z, z, 1 / temperature, positives, excluded)


def dcl(z_a: np.ndarray, z_b: np.ndarray, temperature: float, sigma: float | None = None) -> float:
    """DCL (Yeh et al. eq. 6): positive removed from the denominator; DCLW weights w_i."""
    n = len(z_a)
    z = unit(np.concatenate([z_a, z_b]))
    positives = [[(i + n) % (2 * n)] for i in range(2 * n)]
    excluded = [{i, (i + n) % (2 * n)} for i in range(2 * n)]
    weights = None
    if sigma is not None:
        cos = np.array([np.dot(z[i], z[i + n]) for i in range(n)]) / sigma
        soft = np.exp(cos - cos.max()) / np.exp(cos - cos.max()).sum()
        w = 2 - n * soft
        weights = list(w) + list(w)
    return multi_positive_ce(z, z, 1 / temperature, positives, excluded, weights)


def info_nce(
    query: np.ndarray,
    key: np.ndarray,
    temperature: float,
    negatives: np.ndarray | None = None,
    ids: np.ndarray | None = None,
) -> float:
    """CPC / MoCo InfoNCE: -log exp(q.k+/t) / (sum over keys and queue of exp(q.k/t))."""
    n = len(query)
    q, k = unit(query), unit(key)
    cands = k if negatives is None else np.concatenate([k, unit(negatives)])
    positives = []
    for i in range(n):
        if ids is None:
            positives.append([i])
        else:
            positives.append([j for j in range(n) if ids[j] == ids[i]])
    return multi_positive_ce(q, cands, 1 / temperature, positives, [set() for _ in range(n)])


def supcon(z: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    """SupCon eq. (2), L_out: anchors without positives are skipped."""
    n, v, _ = z.shape
    rows = unit(z.reshape(n * v, -1))
    lab = [int(labels[i // v]) for i in range(n * v)]
    positives = [[j for j in range(n * v) if j != i and lab[j] == lab[i]] for i in range(n * v)]
    excluded = [{i} for i in range(n * v)]
    return multi_positive_ce(rows, rows, 1 / temperature, positives, excluded)


def n_pair(anchor: np.ndarray, positive: np.ndarray, l2_reg: float) -> float:
    """Sohn eq. (6): log(1 + sum_{j != i} exp(f.f_j+ - f.f_i+)), unnormalised, + L2."""
    n = len(anchor)
    total = 0.0
    for i in range(n):
        own = float(np.dot(anchor[i], positive[i]))
        others = sum(
            math.exp(float(np.dot(anchor[i], positive[j])) - own) for j in range(n) if j != i
        )
        total += math.log1p(others)
    reg = sum(float(np.dot(a, a) + np.dot(p, p)) for a, p in zip(anchor, positive, strict=True))
    return total / n + l2_reg * reg / (2 * n)


def margin_contrastive(a: np.ndarray, b: np.ndarray, same: np.ndarray, margin: float) -> float:
    """Hadsell et al. eq. (4): (1-Y) D^2/2 + Y max(0, m - D)^2/2 with Y = 1 dissimilar."""
    a, b = unit(a), unit(b)
    total = 0.0
    for i in range(len(a)):
        d = float(np.linalg.norm(a[i] - b[i]))
        total += d * d / 2 if same[i] else max(0.0, margin - d) ** 2 / 2
    return total / len(a)


def triplet(a: np.ndarray, p: np.ndarray, n: np.ndarray, margin: float) -> float:
    """FaceNet eq. (1)-(3) with unsquared distances: mean [d(a,p) - d(a,n) + m]_+."""
    a, p, n = unit(a), unit(p), unit(n)
    vals = [
        max(0.0, float(np.linalg.norm(a[i] - p[i]) - np.linalg.norm(a[i] - n[i])) + margin)
        for i in range(len(a))
    ]
    return float(np.mean(vals))


def sigmoid_pairs(
    a: np.ndarray, b: np.ndarray, scale: float, bias: float, ids: np.ndarray | None = None
) -> float:
    """SigLIP Algorithm 1: -sum log sigmoid(z_ij (t x_i.y_j + b)) / n."""
    n = len(a)
    x, y = unit(a), unit(b)
    total = 0.0
    for i in range(n):
        for j in range(n):
            positive = i == j if ids is None else ids[i] == ids[j]
            logit = scale * float(np.dot(x[i], y[j])) + bias
            label = 1.0 if positive else -1.0
            total += math.log1p(math.exp(-label * logit))
    return total / n
