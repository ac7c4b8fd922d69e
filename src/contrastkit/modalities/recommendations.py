"""A trained recommender's users and items as two tables of unit vectors, and the top-k
unseen items of a user (what `contrastkit recommend` prints and `/recommend` answers).

Scores are cosine similarities of the user's and the items' embeddings (the model's
ranking: its logits are these divided by the temperature, minus nothing at inference).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from contrastkit.errors import UserError
from contrastkit.eval.recommend import top_k_unseen

MAX_SUGGESTIONS = 3
SUGGEST_FROM = 200_000
"""Close ids are looked for among at most this many users (difflib is linear in them)."""


def close_ids(value: str, names: list[str]) -> str:
    """'; close ids: a, b, c' for up to three of `names` close to `value`, or ''."""
    close = difflib.get_close_matches(
        str(value), names[:SUGGEST_FROM], n=MAX_SUGGESTIONS, cutoff=0.6
    )
    return f"; close ids: {', '.join(close)}" if close else ""


@dataclass(frozen=True)
class Recommended:
    """One recommended item: its id, cosine score, and whether it is new (embedded from
    its features only: no one interacted with it in training)."""

    item: str
    score: float
    new: bool = False


@dataclass(frozen=True)
class Recommendations:
    """Users and items of a run, embedded.

    Attributes:
        user_names: Id of each user code.
        item_names: Id of each item code.
        users: Shape: (n_users, D), float32 unit rows.
        items: Shape: (n_items, D), float32 unit rows.
        seen: Shape: (n_users, n_items), every interaction in the run's data (held-out
            ones too): a user is never recommended an item they already have.
    """

    user_names: list[str]
    item_names: list[str]
    users: np.ndarray
    items: np.ndarray
    seen: sp.csr_matrix
    _user_code: dict[str, int] = field(init=False, repr=False)
    _item_code: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.users.shape[0] != len(self.user_names) or self.items.shape[0] != len(
            self.item_names
        ):
            raise ValueError("one name per user row and per item row")
        if self.seen.shape != (len(self.user_names), len(self.item_names)):
            raise ValueError(f"seen has shape {self.seen.shape}")
        object.__setattr__(self, "_user_code", {u: i for i, u in enumerate(self.user_names)})
        object.__setattr__(self, "_item_code", {u: i for i, u in enumerate(self.item_names)})

    def user_code(self, user: str, *, what: str = "--user") -> int:
        """The code of user id `user`.

        Raises:
            UserError: no such user (names up to three close ids).
        """
        code = self._user_code.get(user)
        if code is not None:
            return code
        raise UserError(
            f"{what}: unknown user {user!r} ({len(self.user_names)} users in the run's "
            f"data{close_ids(user, self.user_names)})"
        )

    def item_code(self, item: str) -> int | None:
        """The code of item id `item`, or None when the run has no such item."""
        return self._item_code.get(item)

    def seen_among(self, user: str, names: list[str] | None = None) -> int:
        """How many of `names` (default: every item of the run) the user already has."""
        have = self.seen[self.user_code(user)].indices
        if names is None:
            return len(have)
        held = {self.item_names[i] for i in have}
        return sum(name in held for name in names)

    def top_k(self, user: str, k: int, *, what: str = "--user") -> list[Recommended]:
        """The user's `k` best items among those they have no interaction with, best first
        (ties by item code).

        Raises:
            UserError: an unknown user or k < 1.
        """
        if k < 1:
            raise UserError(f"--k must be >= 1, got {k}")
        u = self.user_code(user, what=what)
        scores = self.items @ self.users[u]  # (I,)
        seen = self.seen[u].indices
        items, values = top_k_unseen(scores, seen, k)
        return [
            Recommended(self.item_names[i], float(s)) for i, s in zip(items, values, strict=True)
        ]

    def top_k_among(
        self, user: str, k: int, names: list[str], vectors: np.ndarray
    ) -> list[Recommended]:
        """The user's `k` best among the given candidate items (e.g. new items embedded
        from their features), leaving out those the user already has. vectors: Shape:
        (C, D) unit rows, one per name."""
        if k < 1:
            raise UserError(f"--k must be >= 1, got {k}")
        if vectors.shape[0] != len(names):
            raise ValueError(f"{len(names)} names for {vectors.shape[0]} vectors")
        u = self.user_code(user)
        have = set(self.seen[u].indices.tolist())
        codes = [self.item_code(n) for n in names]
        seen = np.asarray([i for i, c in enumerate(codes) if c is not None and c in have])
        order, values = top_k_unseen(vectors @ self.users[u], seen.astype(np.int64), k)
        return [
            Recommended(names[i], float(s), new=codes[i] is None)
            for i, s in zip(order, values, strict=True)
        ]
