import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from contrastkit.eval.health import alignment, embedding_std, rankme, uniformity
from contrastkit.eval.retrieval import leave_one_out_retrieval


def test_rankme_closed_forms() -> None:
    eye = torch.eye(8)
    assert rankme(eye) == pytest.approx(8.0, rel=1e-4)
    line = torch.randn(50, 1) * torch.randn(1, 8)
    assert rankme(line) == pytest.approx(1.0, abs=1e-3)


def test_embedding_std_collapse_and_spread() -> None:
    assert embedding_std(torch.ones(10, 4)) == pytest.approx(0.0, abs=1e-6)
    spread = torch.randn(20000, 16)
    assert embedding_std(spread) == pytest.approx(1 / math.sqrt(16), rel=0.05)


def test_alignment_and_uniformity_reference() -> None:
    a, b = torch.randn(30, 5), torch.randn(30, 5)
    an, bn = F.normalize(a, dim=1).numpy(), F.normalize(b, dim=1).numpy()
    assert alignment(a, b) == pytest.approx(np.mean(np.sum((an - bn) ** 2, axis=1)), rel=1e-5)
    sq = np.array([np.sum((an[i] - an[j]) ** 2) for i in range(30) for j in range(i + 1, 30)])
    assert uniformity(a) == pytest.approx(np.log(np.mean(np.exp(-2 * sq))), rel=1e-4)


def slow_retrieval(z: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    zn = z / np.linalg.norm(z, axis=1, keepdims=True)
    r1, aps = [], []
    for i in range(len(z)):
        others = [j for j in range(len(z)) if j != i]
        order = sorted(others, key=lambda j: -float(zn[i] @ zn[j]))
        rel = [y[j] == y[i] for j in order]
        r1.append(rel[0])
        if any(rel):
            hits, precisions = 0, []
            for rank, r in enumerate(rel, start=1):
                if r:
                    hits += 1
                    precisions.append(hits / rank)
            aps.append(np.mean(precisions))
    return float(np.mean(r1)), float(np.mean(aps))


def test_retrieval_matches_slow_reference() -> None:
    gen = np.random.default_rng(0)
    z = gen.normal(size=(40, 6)).astype(np.float32)
    y = gen.integers(0, 4, size=40)
    out = leave_one_out_retrieval(torch.from_numpy(z), torch.from_numpy(y))
    r1, m = slow_retrieval(z, y)
    assert out["recall_at_1"] == pytest.approx(r1)
    assert out["map"] == pytest.approx(m, rel=1e-5)
