"""ANN indexes: the flat kind equals brute-force cosine, auto picks by size, IVF/HNSW reach
the recall they were tuned for, batches build the same index as one array."""

from __future__ import annotations

import faiss
import numpy as np
import pytest

from contrastkit.index.ann import (
    build_index,
    default_nlist,
    exact_neighbours,
    normalized,
    recall_at_k,
    search_rows,
)


def clustered(n: int, d: int = 16, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((20, d))
    return (centers[rng.integers(0, 20, n)] + 0.5 * rng.standard_normal((n, d))).astype(np.float32)


def batches(x: np.ndarray, size: int) -> list[np.ndarray]:
    return [x[i : i + size] for i in range(0, len(x), size)]


def test_flat_search_equals_brute_force_cosine() -> None:
    x, q = clustered(300), clustered(7, seed=1) * 3
    built = build_index(batches(x, 64), dim=16)
    assert built.kind == "flat" and built.count == 300 and built.recall_at_10 is None
    scores, rows = search_rows(built.index, q, k=5)
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    qn = q / np.linalg.norm(q, axis=1, keepdims=True)
    sims = qn @ xn.T
    want = np.argsort(-sims, axis=1)[:, :5]
    np.testing.assert_array_equal(rows, want)
    np.testing.assert_allclose(scores, np.take_along_axis(sims, want, axis=1), atol=1e-5)


def test_auto_switches_to_ivf_above_the_threshold_with_or_without_count() -> None:
    x = clustered(2000)
    small = build_index(batches(x[:400], 100), dim=16, exact_max=400)
    assert small.kind == "flat"
    streamed = build_index(batches(x, 100), dim=16, exact_max=400)  # count unknown
    assert streamed.kind == "ivf" and streamed.count == 2000
    assert streamed.params["nlist"] == default_nlist(500)  # 4 sqrt(first staged 500)
    counted = build_index(batches(x, 100), dim=16, exact_max=400, count=2000)
    assert counted.kind == "ivf" and counted.params["nlist"] == default_nlist(2000) == 51


@pytest.mark.parametrize("kind", ["flat", "ivf", "hnsw"])
@pytest.mark.parametrize("n", [5, 12, 50])
def test_tiny_streams_index_every_row_and_find_it(kind: str, n: int) -> None:
    """A fixed kind starts its index before the stream ends; when the stream is smaller
    than the held-out check sample, every row still lands in the index (it once measured
    recall 0.000 on an empty HNSW index)."""
    x = clustered(n, seed=3)
    built = build_index(batches(x, max(1, n // 2)), dim=16, kind=kind)  # type: ignore[arg-type]
    assert built.count == n and sorted(built.positions.tolist()) == list(range(n))
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    rows = search_rows(built.index, xn, k=1)[1][:, 0]
    np.testing.assert_array_equal(built.positions[rows], np.arange(n))
    if kind != "flat":
        assert built.recall_at_10 is not None and built.recall_at_10 >= 0.95


@pytest.mark.parametrize("kind", ["ivf", "hnsw"])
def test_approximate_index_reaches_target_recall(kind: str) -> None:
    data = clustered(3200, seed=2)
    x, fresh = data[:3000], data[3000:]
    built = build_index(batches(x, 500), dim=16, kind=kind, count=3000, target_recall=0.9)  # type: ignore[arg-type]
    assert built.kind == kind
    assert built.recall_at_10 is not None and built.recall_at_10 >= 0.9
    # measured again on fresh queries against an exact flat index
    queries = normalized(fresh, dim=16)
    exact = faiss.IndexFlatIP(16)
    exact.add(normalized(x[built.positions], dim=16))  # rows in the index's order
    assert recall_at_k(built.index, queries, exact) >= 0.85


def test_recall_at_k_counts_overlap() -> None:
    x = normalized(clustered(50), dim=16)
    flat = faiss.IndexFlatIP(16)
    flat.add(x)
    q = x[:4]
    truth = exact_neighbours(flat, q, 10)
    assert recall_at_k(flat, q, truth) == 1.0
    wrong = truth.copy()
    wrong[:, 5:] = -7 - np.arange(5)  # half the true ids replaced by ids that never come back
    assert recall_at_k(flat, q, wrong) == pytest.approx(0.5)


def test_exact_neighbours_in_chunks_equals_flat_search() -> None:
    x = normalized(clustered(500), dim=16)
    flat = faiss.IndexFlatIP(16)
    flat.add(x)
    q = normalized(clustered(9, seed=5), dim=16)
    np.testing.assert_array_equal(exact_neighbours(flat, q, 7, chunk=64), flat.search(q, 7)[1])


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="batches were empty"):
        build_index(iter([]), dim=4)
    with pytest.raises(ValueError, match=r"must have shape \(N, 4\)"):
        build_index(iter([np.zeros((3, 5))]), dim=4)
    with pytest.raises(ValueError, match="kind must be"):
        build_index(iter([np.ones((3, 4))]), dim=4, kind="lsh")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="NaN"):
        build_index(iter([np.full((3, 4), np.nan)]), dim=4)
    with pytest.raises(ValueError, match="needs >= 179 training"):
        build_index(iter([np.ones((100, 4))]), dim=4, kind="ivf", nlist=179)


def test_ivf_trains_on_a_given_sample_and_adds_everything() -> None:
    x = clustered(1500, seed=4)
    order = np.argsort(x[:, 0])  # a sorted stream: its first rows are not representative
    built = build_index(
        batches(x[order], 100), dim=16, kind="ivf", nlist=10, train_sample=x[::5], check_queries=50
    )
    assert built.kind == "ivf" and built.count == 1500 and built.params["nlist"] == 10
    assert built.recall_at_10 is not None and built.recall_at_10 >= 0.95
    assert sorted(built.positions.tolist()) == list(range(1500))
