"""Where a run's interactions come from, and the leave-last-out split of them.

- `interactions`: the CSV at `data.path` (`contrastkit.data.interactions`: columns
  user,item[,timestamp][,numeric item-feature columns]).
- `generated_interactions`: *generated* data (no real interaction data ships offline):
  `generate_interactions` with the fixed sizes of `GENERATED`, seeded by the run's `seed`,
  with the generator's own preference scores (the oracle) kept for the evaluation.

Either way each user's latest interaction is held out (leave-last-out) and never trained on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from contrastkit.data.interactions import (
    Interactions,
    generate_interactions,
    read_interactions_csv,
)
from contrastkit.errors import UserError
from contrastkit.eval.recommend import LeaveLastOut, interaction_matrix, leave_last_out
from contrastkit.modalities.options import DataConfig

INTERACTION_SOURCES = ("interactions", "generated_interactions")

GENERATED = {"n_users": 1500, "n_items": 400, "per_user": 15, "dim": 8, "n_features": 16}
"""The generated data's sizes: 1,500 users x 400 items, 15 interactions each (22,500), a
latent space of 8 dimensions, 16 item-feature columns, Zipf popularity (exponent 1)."""


@dataclass(frozen=True)
class InteractionData:
    """Interactions, their leave-last-out split and what training reads from it.

    Attributes:
        data: All interactions (user and item codes, names, item features).
        split: Each user's latest interaction held out (`eval.recommend.leave_last_out`).
        train: Shape: (n_users, n_items), the binary matrix of the training interactions.
        log_q: Shape: (n_items,), float32 log of each item's share of the training
            interactions (items never trained on: the log of half an interaction).
        oracle: Shape: (n_users, n_items), the generator's preference scores, or None for
            real data.
    """

    data: Interactions
    split: LeaveLastOut
    train: sp.csr_matrix
    log_q: np.ndarray
    oracle: np.ndarray | None

    @property
    def generated(self) -> bool:
        return self.oracle is not None

    def seen(self) -> sp.csr_matrix:
        """Shape: (n_users, n_items), every interaction of the data (held-out ones too):
        what `recommend` leaves out of a user's list."""
        d = self.data
        return interaction_matrix(d.users, d.items, d.n_users, d.n_items)

    def describe(self) -> list[str]:
        """What the data is and how it was split, for the training log."""
        d, s = self.data, self.split
        feats = f"{len(d.feature_names)} item-feature columns" if d.feature_names else "no features"
        unscored = d.n_users - len(s.test_users)
        lines = [
            f"data: {d.name}: {len(d)} interactions, {d.n_users} users, {d.n_items} items, "
            f"{feats}" + (" (generated: no real interaction data ships)" if self.generated else "")
        ]
        order = "timestamp" if d.timestamps is not None else "row order (no timestamp column)"
        lines.append(
            f"leave-last-out by {order}: {len(s.test_users)} users hold out their latest "
            f"interaction (never trained on); {len(s.train_rows)} training interactions"
            + (f"; {unscored} users with one interaction are not scored" if unscored else "")
        )
        return lines


def read_interaction_source(cfg: DataConfig, seed: int) -> tuple[Interactions, np.ndarray | None]:
    """The interactions a config names and the oracle scores (generated data only)."""
    if cfg.source == "generated_interactions":
        gen = generate_interactions(**GENERATED, seed=seed)
        return gen.data, gen.oracle
    if cfg.source != "interactions":
        raise ValueError(f"not an interactions source: {cfg.source!r}")
    if cfg.path is None:
        raise UserError(
            "data.path: data.source 'interactions' needs a CSV of user,item[,timestamp]"
            "[,feature columns] (or use data.source generated_interactions)"
        )
    return read_interactions_csv(Path(cfg.path)), None


def load_interaction_data(
    cfg: DataConfig, seed: int, log: Callable[[str], None] = lambda _msg: None
) -> InteractionData:
    """Read the interactions and hold out each user's latest one.

    Raises:
        UserError: a reader error, or no user with two interactions (nothing to evaluate).
    """
    data, oracle = read_interaction_source(cfg, seed)
    split = leave_last_out(data.users, data.items, data.timestamps, data.n_users)
    if not len(split.test_users):
        raise UserError(
            f"{data.name}: no user has two interactions; leave-last-out needs users with at "
            "least two (one to train on, the latest to hold out)"
        )
    rows = split.train_rows
    train = interaction_matrix(data.users[rows], data.items[rows], data.n_users, data.n_items)
    counts = np.bincount(data.items[rows], minlength=data.n_items).astype(np.float64)
    log_q = np.log(np.maximum(counts, 0.5) / len(rows)).astype(np.float32)
    out = InteractionData(data, split, train, log_q, oracle)
    for line in out.describe():
        log(line)
    return out
