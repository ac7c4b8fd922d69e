"""Recommendation metrics: leave-last-out split, recall@k and NDCG@k, and the baselines
(most popular, truncated SVD of the user-item matrix, the generator's oracle).

Protocol: for each user the latest interaction (by timestamp, else by row order; ties go to
the later row) is the test item, the rest is training data. A model scores every item for a
user; items the user has in training are left out of the ranking; the test item's rank r
(0 = first, ties counted against it) gives

    recall@k = mean_u [r_u < k]        (one held-out item: recall = hit rate)
    NDCG@k   = mean_u [r_u < k] / log2(r_u + 2)   (the ideal DCG is 1)

over the users with a test item.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import TruncatedSVD


@dataclass(frozen=True)
class LeaveLastOut:
    """A leave-last-out split.

    Attributes:
        train_rows: Shape: (N_train,), int64 indices of the training interactions.
        test_item: Shape: (n_users,), int64, each user's held-out item, -1 for users
            with fewer than two interactions (they stay in training and are not scored).
    """

    train_rows: np.ndarray
    test_item: np.ndarray

    @property
    def test_users(self) -> np.ndarray:
        """Users with a test item. Shape: (U_test,)."""
        return np.flatnonzero(self.test_item >= 0)


def leave_last_out(
    users: np.ndarray, items: np.ndarray, timestamps: np.ndarray | None, n_users: int
) -> LeaveLastOut:
    """Hold out each user's latest interaction.

    Args:
        users, items: Shape: (N,), int64 codes.
        timestamps: Shape: (N,), or None for the row order.
        n_users: Number of user codes.
    """
    n = len(users)
    if items.shape != users.shape or (timestamps is not None and timestamps.shape != (n,)):
        raise ValueError("users, items and timestamps must all have shape (N,)")
    time = np.arange(n, dtype=np.float64) if timestamps is None else timestamps
    order = np.lexsort((np.arange(n), time, users))  # by user, then time, then row
    last = np.r_[users[order][1:] != users[order][:-1], True]  # last row of each user
    first = np.r_[True, users[order][1:] != users[order][:-1]]
    held = order[last & ~first]  # the latest row of users with >= 2 rows
    test_item = np.full(n_users, -1, dtype=np.int64)
    test_item[users[held]] = items[held]
    keep = np.ones(n, dtype=bool)
    keep[held] = False
    return LeaveLastOut(np.flatnonzero(keep), test_item)


def interaction_matrix(
    users: np.ndarray, items: np.ndarray, n_users: int, n_items: int
) -> sp.csr_matrix:
    """The binary user-item matrix (repeats count once). Shape: (n_users, n_items)."""
    m = sp.csr_matrix(
        (np.ones(len(users), dtype=np.float32), (users, items)), shape=(n_users, n_items)
    )
    m.data[:] = 1.0
    return m


def held_out_ranks(scores: np.ndarray, train: sp.csr_matrix, test_item: np.ndarray) -> np.ndarray:
    """Rank of each user's test item among the items not in their training data.

    Args:
        scores: Shape: (U, I), one row per user.
        train: Shape: (U, I) binary training matrix.
        test_item: Shape: (U,), -1 = not scored.

    Returns:
        Shape: (U_test,), int64 ranks (0 = best) for users with a test item, in user order;
        a candidate scoring equal to the test item counts as ranked above it.
    """
    users = np.flatnonzero(test_item >= 0)
    return _ranks(np.asarray(scores[users], dtype=np.float64), train[users], test_item[users])


def recall_at_k(ranks: np.ndarray, k: int) -> float:
    """Fraction of test users whose held-out item ranks in the top k."""
    return float(np.mean(ranks < k)) if len(ranks) else 0.0


def ndcg_at_k(ranks: np.ndarray, k: int) -> float:
    """Mean of 1 / log2(rank + 2) over test users whose item is in the top k (else 0)."""
    if not len(ranks):
        return 0.0
    return float(np.mean(np.where(ranks < k, 1.0 / np.log2(ranks + 2.0), 0.0)))


def recommend_metrics(
    scores: np.ndarray | Callable[[np.ndarray], np.ndarray],
    train: sp.csr_matrix,
    test_item: np.ndarray,
    *,
    ks: Sequence[int] = (10, 20),
    ndcg_ks: Sequence[int] = (10,),
    chunk: int = 4096,
) -> dict[str, float]:
    """recall@k and NDCG@k of the test users' held-out items, `chunk` test users at a time.

    Args:
        scores: Shape: (n_users, n_items), larger = recommended first; or the scores made
            on demand: `scores(users)` -> Shape: (len(users), n_items) for those users
            (int64 codes, ascending), so the whole matrix never exists (memory is
            chunk x n_items).
        train: Shape: (n_users, n_items), the binary training matrix (left out).
        test_item: Shape: (n_users,), from `leave_last_out`.

    Returns:
        ``{"recall@10", "recall@20", "ndcg@10", "users"}`` for the default ks.
    """
    score_rows = scores if callable(scores) else (lambda rows: np.asarray(scores[rows]))
    users = np.flatnonzero(test_item >= 0)
    parts = []
    for start in range(0, len(users), chunk):
        rows = users[start : start + chunk]
        s = np.asarray(score_rows(rows), dtype=np.float64)
        if s.shape != (len(rows), train.shape[1]):
            raise ValueError(
                f"score_rows gave shape {s.shape}, expected {(len(rows), train.shape[1])}"
            )
        parts.append(_ranks(s, train[rows], test_item[rows]))
    ranks = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    out = {f"recall@{k}": recall_at_k(ranks, k) for k in ks}
    out.update({f"ndcg@{k}": ndcg_at_k(ranks, k) for k in ndcg_ks})
    out["users"] = float(len(ranks))
    return out


def _ranks(s: np.ndarray, seen_rows: sp.csr_matrix, items: np.ndarray) -> np.ndarray:
    """Ranks of `items` (one per row of `s`, Shape: (C,)) among each row's unseen items."""
    seen = seen_rows.toarray() > 0  # (C, I)
    rows = np.arange(len(items))
    own = s[rows, items]
    ahead = (s >= own[:, None]) & ~seen
    ahead[rows, items] = False
    return ahead.sum(axis=1).astype(np.int64)


def most_popular_scores(train: sp.csr_matrix) -> np.ndarray:
    """Every user gets the items' training counts. Shape: (n_users, n_items)."""
    counts = np.asarray(train.sum(axis=0)).reshape(-1)
    return np.broadcast_to(counts.astype(np.float32), train.shape)


def svd_factors(train: sp.csr_matrix, *, rank: int, seed: int = 0) -> np.ndarray:
    """The top `rank` right singular vectors V_r of the binary training matrix.
    Shape: (rank, n_items), float32."""
    if not 1 <= rank < min(train.shape):
        raise ValueError(f"rank must be in [1, {min(train.shape) - 1}], got {rank}")
    svd = TruncatedSVD(n_components=rank, random_state=seed).fit(train)
    out: np.ndarray = svd.components_.astype(np.float32)
    return out


def svd_scores(train: sp.csr_matrix, *, rank: int, seed: int = 0) -> np.ndarray:
    """PureSVD (Cremonesi et al. 2010): the rank-r truncated SVD reconstruction
    ``X V_r V_r^T`` of the binary training matrix X. Shape: (n_users, n_items)."""
    v = svd_factors(train, rank=rank, seed=seed)  # (r, I)
    out: np.ndarray = (train @ v.T) @ v
    return out


def top_k_unseen(scores: np.ndarray, seen: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """One user's k best items that are not in `seen` (what `recommend --user U` prints).

    Args:
        scores: Shape: (I,), the user's score for every item.
        seen: Item codes the user already has (left out).
        k: Items wanted (fewer come back when fewer are unseen).

    Returns:
        `(items, item_scores)`, each Shape: (min(k, unseen),), best first; ties by item code.
    """
    if scores.ndim != 1 or k < 1:
        raise ValueError(f"need (I,) scores and k >= 1, got {scores.shape} and k={k}")
    s = np.asarray(scores, dtype=np.float64).copy()
    s[np.asarray(seen, dtype=np.int64)] = -np.inf
    n = int(np.isfinite(s).sum())
    order = np.lexsort((np.arange(len(s)), -s))[: min(k, n)]
    return order, s[order]
