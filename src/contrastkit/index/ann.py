"""FAISS indexes over cosine similarity, exact when small and approximate when large, built
from a stream of batches so that a million vectors fit in bounded memory.

Cosine similarity is the inner product of L2-normalised rows, so every index here uses
`METRIC_INNER_PRODUCT` on normalised vectors (queries are normalised the same way).

Kinds:
    * ``flat``: `IndexFlatIP`, exact brute force; the default up to `EXACT_MAX` vectors.
    * ``ivf``: `IndexIVFFlat` with ``nlist = 4 sqrt(N)`` lists (k-means trained on a sample
      of at most `TRAIN_PER_LIST` x nlist vectors), full vectors stored, ``nprobe`` (lists
      scanned per query) raised in powers of two until recall@10 on a sample reaches
      `TARGET_RECALL`. The default above `EXACT_MAX`.
    * ``hnsw``: `IndexHNSWFlat` (M = 32, efConstruction = 80), ``efSearch`` tuned the same
      way. Needs no training, but is slower to build.

Why IVF by default: measured with `benchmarks/use.py --case 100000 ivf|hnsw` (100k
clustered 128-d vectors, one thread, a shared 2-core machine), both tuned to recall@10 0.95
on held-out queries (0.945 each on 1,000 fresh ones): IVF-Flat (nlist 1265, nprobe 4) built
in 17.7 s against 74.0 s for HNSW32 (efSearch 32), answered one query in 0.04 ms against
0.19 ms (p50) and 100 in 7.2 ms against 19.6 ms, and took 51 MiB on disk against 75 MiB
(peak RSS 719 vs 815 MiB). That IVF trained on 64 vectors per list; at 40 per list (the
default now) it built in 8.0 s and needed nprobe 8 (0.05 ms per query, recall 0.946).
HNSW needs no training (no sample, any stream order), so it stays available as
``kind="hnsw"``.

The streamed build holds at most ``max(EXACT_MAX, TRAIN_PER_LIST * nlist)`` staged vectors
(plus `CHECK_QUERIES` held-out queries) besides the index itself. The held-out sample is
added last, so index rows are not in stream order: `BuiltIndex.positions` maps them back
(and `contrastkit.index.store.save_index` orders the ids by it). IVF trains on the *first*
vectors of the stream: give the batches in random order (or `train_sample`) when the data is
sorted (e.g. by class), or the lists fit only the first part of the data.

Example:
    >>> built = build_index(iter([x[:50_000], x[50_000:]]), dim=128)
    >>> scores, rows = search_rows(built.index, queries, k=10)
    >>> stream_positions = built.positions[rows]
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

import faiss
import numpy as np

Kind = Literal["flat", "ivf", "hnsw"]
KindChoice = Literal["auto", "flat", "ivf", "hnsw"]
KINDS: tuple[str, ...] = ("auto", "flat", "ivf", "hnsw")

EXACT_MAX = 100_000
"""Up to this many vectors `kind="auto"` builds the exact flat index."""
TARGET_RECALL = 0.95
"""nprobe / efSearch are raised until recall@10 on the check sample reaches this."""
TRAIN_PER_LIST = 40
"""IVF trains k-means on at most this many vectors per list (FAISS warns below 39); k-means
time grows with it, and nprobe is tuned for recall anyway."""
CHECK_QUERIES = 500
"""Vectors sampled uniformly from the stream (reservoir) and held out of the index until the
end: fresh queries to tune nprobe / efSearch and measure recall@10, then indexed too.
(Stored vectors as queries would overstate recall: HNSW found 0.95 on them and 0.77 on
fresh queries.)"""
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80


@dataclass
class BuiltIndex:
    """A built index and how it searches.

    Attributes:
        index: The FAISS index, rows 0..count-1 (see `positions` for their stream order).
        kind: "flat", "ivf" or "hnsw".
        dim: Vector size D.
        recall_at_10: recall@10 against exact search, measured with `CHECK_QUERIES` vectors
            of the stream held out as queries (None for the exact flat index).
        recall_queries: What recall was measured on: "held-out queries", or "stored rows"
            (their own row left out) for a stream too small to hold queries out.
        params: Search parameters chosen ({"nprobe": p, "nlist": n} or {"ef_search": e}).
        positions: Shape: (N,), the stream position of each row (the sample held out to
            measure recall is added last, so rows are not in stream order).
    """

    index: faiss.Index
    kind: Kind
    dim: int
    recall_at_10: float | None = None
    recall_queries: str = "held-out queries"
    params: dict[str, int] = field(default_factory=dict)
    positions: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def count(self) -> int:
        return int(self.index.ntotal)


def default_nlist(count: int) -> int:
    """IVF list count ``round(4 sqrt(N))``, at most N / 39 (the fewest points per list
    FAISS's k-means accepts without a warning) and at least 1: 4000 lists for a million
    vectors, 51 for 2,000, 1 for a handful."""
    return max(1, min(round(4 * math.sqrt(count)), count // 39))


def normalized(x: np.ndarray, *, dim: int, what: str = "vectors") -> np.ndarray:
    """A float32, C-contiguous, L2-normalised copy of `x` (rows of norm 0 stay 0).

    Args:
        x: Shape: (N, D).

    Raises:
        ValueError: `x` is not (N, dim) or holds NaN / inf.
    """
    arr = np.asarray(x)
    if arr.ndim != 2 or arr.shape[1] != dim:
        raise ValueError(f"{what} must have shape (N, {dim}), got {arr.shape}")
    out = np.array(arr, dtype=np.float32, order="C", copy=True)
    if not np.isfinite(out).all():
        raise ValueError(f"{what} hold NaN or inf values")
    faiss.normalize_L2(out)
    return out


def apply_params(index: faiss.Index, params: dict[str, int]) -> None:
    """Set nprobe (IVF) or efSearch (HNSW) on `index`."""
    if "nprobe" in params:
        faiss.extract_index_ivf(index).nprobe = int(params["nprobe"])
    if "ef_search" in params:
        faiss.downcast_index(index).hnsw.efSearch = int(params["ef_search"])  # type: ignore[attr-defined]


def stored_vectors(index: faiss.Index, start: int, n: int) -> np.ndarray:
    """Rows start..start+n-1 of a flat, IVF-Flat or HNSW-Flat index. Shape: (n, D)."""
    index = faiss.downcast_index(index)
    if isinstance(index, faiss.IndexIVF):
        index.make_direct_map()  # idempotent; 8 bytes per vector
    return np.asarray(index.reconstruct_n(start, n), dtype=np.float32)


def exact_neighbours(
    index: faiss.Index, queries: np.ndarray, k: int, *, chunk: int = 16_384
) -> np.ndarray:
    """Exact top-k row ids of each query by brute force over the vectors stored in `index`,
    read `chunk` rows at a time (memory O(Q x chunk)).

    Args:
        queries: Shape: (Q, D), already L2-normalised.

    Returns:
        Shape: (Q, min(k, N)), int64, best first.
    """
    n = int(index.ntotal)
    k = min(k, n)
    best_s = np.full((len(queries), 0), -np.inf, dtype=np.float32)
    best_i = np.zeros((len(queries), 0), dtype=np.int64)
    for start in range(0, n, chunk):
        block = stored_vectors(index, start, min(chunk, n - start))
        sims = queries @ block.T  # (Q, c)
        ids = np.broadcast_to(np.arange(start, start + len(block)), sims.shape)
        all_s, all_i = np.hstack([best_s, sims]), np.hstack([best_i, ids])
        if all_s.shape[1] > k:  # the k best of this block and the best so far, unordered
            part = np.argpartition(-all_s, k - 1, axis=1)[:, :k]
            all_s = np.take_along_axis(all_s, part, axis=1)
            all_i = np.take_along_axis(all_i, part, axis=1)
        top = np.lexsort((all_i, -all_s), axis=1)  # by score, ties by row id
        best_s = np.take_along_axis(all_s, top, axis=1)
        best_i = np.take_along_axis(all_i, top, axis=1)
    return best_i


def recall_at_k(
    index: faiss.Index,
    queries: np.ndarray,
    exact: faiss.Index | np.ndarray,
    *,
    k: int = 10,
    exclude: np.ndarray | None = None,
) -> float:
    """Mean over queries of |approximate top-k ∩ exact top-k| / k.

    Args:
        index: The (approximate) index, with its search parameters set.
        queries: Shape: (Q, D), L2-normalised.
        exact: An exact index over the same rows (searched here), or the exact neighbour
            ids, Shape: (Q, >= k) (k + 1 with `exclude`).
        k: Neighbours compared.
        exclude: Shape: (Q,), a row id per query left out of both lists (the query's own
            row when the queries are stored vectors); each side then keeps k of its k + 1.

    Returns:
        recall@k in [0, 1].
    """
    if queries.ndim != 2 or len(queries) == 0:
        raise ValueError(f"queries must be (Q, D) with Q >= 1, got {queries.shape}")
    depth = k + (exclude is not None)
    truth = exact.search(queries, depth)[1] if isinstance(exact, faiss.Index) else exact
    if truth.shape[0] != len(queries) or truth.shape[1] < min(depth, int(index.ntotal)):
        raise ValueError(f"exact ids must be ({len(queries)}, >= {depth}), got {truth.shape}")
    found = index.search(queries, depth)[1]
    hits = 0.0
    for q in range(len(queries)):
        a, b = list(found[q]), list(truth[q, :depth])
        if exclude is not None:
            a = _drop_one(a, int(exclude[q]))
            b = _drop_one(b, int(exclude[q]))
        want = b[:k]
        hits += len(set(want) & {i for i in a[:k] if i >= 0}) / max(1, len(want))
    return hits / len(queries)


def _drop_one(ids: list[int], own: int) -> list[int]:
    return [i for i in ids if i != own] if own in ids else ids[:-1]


class _HeldBack:
    """A uniform sample of `size` rows of a stream, held out of the index until the end
    (reservoir sampling, Vitter's algorithm R): the held rows are fresh queries for tuning.
    A row pushed out of the sample is returned to be indexed."""

    def __init__(self, size: int, dim: int, seed: int) -> None:
        self.rows = np.zeros((size, dim), dtype=np.float32)
        self.pos = np.zeros(size, dtype=np.int64)
        self.seen = 0
        self.rng = np.random.default_rng(seed)

    def offer(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Take rows of `x` into the sample; returns the rows to index and their stream
        positions."""
        size, start = len(self.rows), self.seen
        fill = max(0, min(len(x), size - start))  # the first `size` rows fill the sample
        self.rows[start : start + fill] = x[:fill]
        self.pos[start : start + fill] = np.arange(start, start + fill)
        later = np.arange(start + fill, start + len(x))  # stream positions of the rest
        slots = self.rng.integers(0, later + 1) if len(later) else later
        take = slots < size
        evicted_rows: list[np.ndarray] = []
        evicted_pos: list[int] = []
        for p, slot in zip(later[take], slots[take], strict=True):
            evicted_rows.append(self.rows[slot].copy())
            evicted_pos.append(int(self.pos[slot]))
            self.rows[slot], self.pos[slot] = x[p - start], p
        keep = ~take
        out_rows, out_pos = [x[fill:][keep]], [later[keep]]
        if evicted_rows:
            out_rows.append(np.stack(evicted_rows))
            out_pos.append(np.asarray(evicted_pos, dtype=np.int64))
        self.seen += len(x)
        return np.concatenate(out_rows), np.concatenate(out_pos)

    def sample(self) -> tuple[np.ndarray, np.ndarray]:
        n = min(self.seen, len(self.rows))
        return self.rows[:n], self.pos[:n]


def _new_index(kind: Kind, dim: int, nlist: int) -> faiss.Index:
    if kind == "flat":
        return faiss.IndexFlatIP(dim)
    if kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        return index
    quantizer = faiss.IndexFlatIP(dim)
    return faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)


def _tune(built: BuiltIndex, queries: np.ndarray, own: np.ndarray | None, target: float) -> None:
    """Raise nprobe / efSearch in powers of two until recall@10 >= target (or the max)."""
    if built.kind == "flat" or len(queries) == 0:
        return
    truth = exact_neighbours(built.index, queries, 10 + (own is not None))
    if built.kind == "ivf":
        nlist = built.params["nlist"]
        steps = [p for p in (2**i for i in range(20)) if p < nlist] + [nlist]
        name = "nprobe"
    else:
        steps = [16 * 2**i for i in range(8)]
        name = "ef_search"
    for value in steps:
        apply_params(built.index, {name: value})
        built.recall_at_10 = recall_at_k(built.index, queries, truth, k=10, exclude=own)
        built.params[name] = value
        if built.recall_at_10 >= target:
            break


def build_index(
    batches: Iterable[np.ndarray],
    *,
    dim: int,
    kind: KindChoice = "auto",
    count: int | None = None,
    exact_max: int = EXACT_MAX,
    nlist: int | None = None,
    train_sample: np.ndarray | None = None,
    target_recall: float = TARGET_RECALL,
    check_queries: int = CHECK_QUERIES,
    seed: int = 0,
) -> BuiltIndex:
    """Build a cosine index from batches of vectors, in bounded memory.

    ``kind="auto"`` gives the exact flat index for at most `exact_max` vectors and IVF-Flat
    above. Without `count`, vectors are staged until `exact_max` is passed, and then the IVF
    lists (``4 sqrt(staged)`` of them unless `nlist` is given) are trained on the staged ones;
    with `count` the kind and ``nlist = 4 sqrt(count)`` are fixed up front.

    Args:
        batches: Arrays of Shape: (B, D), any float dtype; normalised here (copies).
        dim: D.
        kind: "auto", "flat", "ivf" or "hnsw".
        count: Total number of vectors, when known (sizes IVF's lists).
        exact_max: The auto threshold.
        nlist: IVF lists; default ``4 sqrt(count)``.
        train_sample: Vectors to train IVF on, Shape: (T, D); default the first
            ``TRAIN_PER_LIST * nlist`` vectors of the stream.
        target_recall: recall@10 that nprobe / efSearch are tuned to reach.
        check_queries: Vectors of the stream held out (uniformly) as queries to tune the
            search and measure recall@10, added last. A stream of fewer than twice as many
            is tuned on stored rows (their own row left out), which overstates recall.
        seed: Seeds the sampling and k-means.

    Returns:
        The index with its kind, tuned search parameters and recall@10 (None when exact).

    Raises:
        ValueError: Bad arguments or batch shapes, an empty stream, or IVF with fewer
            vectors than lists.
    """
    _check_build_arguments(
        kind=kind, dim=dim, count=count, exact_max=exact_max, nlist=nlist,
        target_recall=target_recall, check_queries=check_queries,
    )  # fmt: skip
    chosen: Kind | None
    if kind == "auto":
        chosen = None if count is None else ("flat" if count <= exact_max else "ivf")
    else:
        chosen = kind
    staging = _Staging(
        dim=dim,
        planned=nlist or (None if count is None else default_nlist(count)),
        train_sample=train_sample,
        seed=seed,
        held=_HeldBack(check_queries, dim, seed),
    )
    stage_limit = staging.limit(chosen, exact_max)
    positions: list[np.ndarray] = []
    built: BuiltIndex | None = None
    for batch in batches:
        rows, pos = staging.held.offer(normalized(batch, dim=dim, what="batch"))
        positions.append(pos)
        if built is not None:
            built.index.add(rows)
            continue
        staging.rows.append(rows)
        if staging.held.seen > stage_limit:
            built = staging.start(chosen or "ivf")
    if staging.held.seen == 0:
        raise ValueError("no vectors to index: the batches were empty")
    return _add_held_back(built, staging, chosen, positions, target_recall)


def _check_build_arguments(
    *,
    kind: str,
    dim: int,
    count: int | None,
    exact_max: int,
    nlist: int | None,
    target_recall: float,
    check_queries: int,
) -> None:
    """Raise ValueError naming the first of `build_index`'s arguments out of range."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if dim < 1 or exact_max < 0 or not 0 < target_recall <= 1 or check_queries < 1:
        raise ValueError(
            f"need dim >= 1, exact_max >= 0, 0 < target_recall <= 1, check_queries >= 1; got "
            f"{dim}, {exact_max}, {target_recall}, {check_queries}"
        )
    if count is not None and count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    if nlist is not None and nlist < 1:
        raise ValueError(f"nlist must be >= 1, got {nlist}")


@dataclass
class _Staging:
    """The vectors of the stream read before the index exists, and how to start it.

    Attributes:
        dim: Vector size D.
        planned: IVF lists when fixed up front (`nlist`, or from `count`), else None.
        train_sample: Vectors to train IVF on, or None for the staged ones.
        seed: Seeds the training sample and k-means.
        held: The reservoir of held-out check queries.
        rows: Normalised batches staged so far, each Shape: (B, D).
    """

    dim: int
    planned: int | None
    train_sample: np.ndarray | None
    seed: int
    held: _HeldBack
    rows: list[np.ndarray] = field(default_factory=list)

    def limit(self, chosen: Kind | None, exact_max: int) -> int:
        """How many vectors to stage before the index starts (0: start at once)."""
        if chosen in ("flat", "hnsw") or (chosen == "ivf" and self.train_sample is not None):
            return 0
        return exact_max if self.planned is None else TRAIN_PER_LIST * self.planned

    def start(self, final: Kind, *, train_on_held: bool = True) -> BuiltIndex:
        """A new index of kind `final` (IVF trained first) holding the staged rows."""
        lists = self.planned or default_nlist(self.held.seen)
        made = BuiltIndex(_new_index(final, self.dim, lists), final, self.dim)
        if final == "ivf":
            if self.train_sample is None:  # the staged rows and the held-out sample
                held = [self.held.sample()[0]] if train_on_held else []
                train = np.vstack([*self.rows, *held])
            else:
                train = normalized(self.train_sample, dim=self.dim, what="train_sample")
            _train_ivf(made.index, train, lists, self.seed)
            made.params["nlist"] = lists
        for part in self.rows:
            made.index.add(part)
        self.rows.clear()
        return made


def _train_ivf(index: faiss.Index, train: np.ndarray, lists: int, seed: int) -> None:
    """Train IVF's k-means on `train`, a seeded sample of `TRAIN_PER_LIST` x lists at most."""
    if len(train) < lists:
        raise ValueError(f"IVF with {lists} lists needs >= {lists} training vectors")
    limit = TRAIN_PER_LIST * lists
    if len(train) > limit:
        train = train[np.random.default_rng(seed).choice(len(train), limit, False)]
    faiss.extract_index_ivf(index).cp.seed = seed
    index.train(train)


def _add_held_back(
    built: BuiltIndex | None,
    staging: _Staging,
    chosen: Kind | None,
    positions: list[np.ndarray],
    target_recall: float,
) -> BuiltIndex:
    """The index once the stream has ended: started if it was not yet, tuned on the held-out
    queries, which are then added last (`positions` gets their stream positions)."""
    queries, own = staging.held.sample()
    enough = staging.held.seen - len(queries) >= max(11, len(queries))  # rows beside them
    if built is None and enough:
        built = staging.start(chosen or "flat")  # the stream ended before the staging limit
    if built is not None and enough:
        _tune(built, queries, None, target_recall)  # held-out queries: not in the index
    else:  # a tiny stream: everything goes in, tuned (if approximate) on stored rows
        if built is None:
            staging.rows.append(queries)
            built = staging.start(chosen or "flat", train_on_held=False)
        else:  # started before the stream ended (a fixed kind): the queries join it
            built.index.add(queries)
        built.recall_queries = "stored rows"
        positions.append(own)
        _tune(built, queries, np.arange(built.count - len(queries), built.count), target_recall)
        queries = queries[:0]
    built.index.add(queries)
    positions.append(own[: len(queries)])
    built.positions = np.concatenate(positions)
    return built


def search_rows(index: faiss.Index, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Cosine similarities and row ids of the k best rows per query (rows -1 = no hit).

    Args:
        queries: Shape: (Q, D), any scale (normalised here).

    Returns:
        `(scores, rows)`, each Shape: (Q, min(k, N)), best first.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    q = normalized(queries, dim=int(index.d), what="queries")
    scores, rows = index.search(q, min(k, int(index.ntotal)))
    return scores, rows
