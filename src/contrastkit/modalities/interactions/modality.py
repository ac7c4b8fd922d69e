"""The interactions modality: (user, item) pairs for a two-tower recommender, evaluated by
leave-last-out against most-popular, truncated SVD and, on generated data, the oracle."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from contrastkit.batches import InteractionBatch
from contrastkit.data.interactions import read_item_features_csv
from contrastkit.data.items import TensorItems
from contrastkit.encoders.item_tower import COLD, ItemTower, RecommenderTowers, UserTower
from contrastkit.errors import UserError
from contrastkit.eval.recommend import (
    most_popular_scores,
    recommend_metrics,
    svd_factors,
)
from contrastkit.eval.recommend_table import recommend_table
from contrastkit.methods.registry import MethodSpec
from contrastkit.methods.two_tower_rec import TwoTowerRecommender
from contrastkit.modalities.base import (
    Embedded,
    EmbeddingViews,
    EmbedOptions,
    ExportSpec,
    Log,
    Modality,
    Training,
)
from contrastkit.modalities.interactions.sources import (
    INTERACTION_SOURCES,
    InteractionData,
    load_interaction_data,
)
from contrastkit.modalities.metrics_table import MetricsTable
from contrastkit.modalities.recommendations import Recommendations, close_ids

SVD_RANK = 32
"""Rank of the truncated-SVD baseline (PureSVD), at most min(users, items) - 1."""
SCORE_CELLS = 2**24
"""Users x items scored at a time in the evaluation (the chunk of users follows)."""


def recommender_of(method: nn.Module) -> TwoTowerRecommender:
    """The run's method as the recommender it must be (the modality check admits no other)."""
    if not isinstance(method, TwoTowerRecommender):
        raise UserError(f"interactions runs train two_tower, got {type(method).__name__}")
    return method


def no_views(x: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Interactions have no random views (an id is not augmented)."""
    return x


def _scores(metrics: dict[str, float]) -> dict[str, float]:
    return {
        "recall_at_10": metrics["recall@10"],
        "recall_at_20": metrics["recall@20"],
        "ndcg_at_10": metrics["ndcg@10"],
    }


class InteractionModality(Modality):
    """User-item interactions: a CSV (`data.path`) or generated data with an oracle."""

    name = "interactions"
    sources = INTERACTION_SOURCES
    batch_types = (InteractionBatch,)
    tables = (
        MetricsTable.of_block(
            "recommend", "Recommendation (leave-last-out)", "recommendation (%)", recommend_table
        ),
    )

    @cached_property
    def interactions(self) -> InteractionData:
        return load_interaction_data(self.settings.data, self.settings.seed)

    def new_encoder(self) -> nn.Module:
        """Both towers sized for the data: a user embedding per user, an item embedding per
        item plus an MLP over the item features (embedding size `model.feature_dim`, MLP
        width `model.width`); the method wraps them."""
        d, m = self.interactions.data, self.settings.model
        return RecommenderTowers(
            UserTower(num_users=d.n_users, dim=m.feature_dim),
            ItemTower(
                num_items=d.n_items,
                num_features=len(d.feature_names),
                dim=m.feature_dim,
                hidden=m.width,
            ),
        )

    def _features(self) -> Tensor | None:
        f = self.interactions.data.item_features
        return None if f is None else torch.from_numpy(f)

    def training(self, spec: MethodSpec, log: Log) -> Training:
        """The training interactions (each user's latest held out), with each row's item
        features and log q (the item's share of the training interactions)."""
        inter = self.interactions
        d, rows = inter.data, inter.split.train_rows
        items = torch.from_numpy(d.items[rows])
        features = self._features()
        batch = InteractionBatch(
            users=torch.from_numpy(d.users[rows]),
            item_ids=items,
            features=None if features is None else features[items],
            log_q=torch.from_numpy(inter.log_q)[items],
        )
        m = self.settings.model
        towers = (
            f"towers: embedding size {m.feature_dim} (model.feature_dim), item-feature MLP "
            f"width {m.width} (model.width); model.encoder is not used"
        )
        return Training(
            items=TensorItems(batch), views=no_views, name=d.name, lines=[*inter.describe(), towers]
        )

    def evaluate(
        self, method: nn.Module, run_dir: Path, log: Log, *, budget_s: float | None = None
    ) -> dict[str, Any]:
        """The `recommend` block: recall@10/20 and NDCG@10 of the held-out items for the
        model, most-popular, truncated SVD (rank min(32, users - 1, items - 1)) and, on
        generated data, the generator's own scores (the oracle)."""
        inter = self.interactions
        d, train, test_item = inter.data, inter.train, inter.split.test_item
        chunk = max(16, SCORE_CELLS // d.n_items)

        def measure(score_rows: Callable[[np.ndarray], np.ndarray]) -> dict[str, float]:
            return _scores(recommend_metrics(score_rows, train, test_item, chunk=chunk))

        rec = self.recommendations(method)
        block: dict[str, Any] = {"model": measure(lambda u: rec.users[u] @ rec.items.T)}
        popular = most_popular_scores(train)[0]  # (I,), the same for every user
        block["most_popular"] = measure(lambda u: np.broadcast_to(popular, (len(u), d.n_items)))
        rank = min(SVD_RANK, d.n_users - 1, d.n_items - 1)
        if rank >= 1:
            v = svd_factors(train, rank=rank, seed=self.settings.seed)  # (r, I)
            block["svd"] = measure(lambda u: (train[u] @ v.T) @ v)
            block["svd_rank"] = rank
        oracle = inter.oracle
        if oracle is not None:
            block["oracle"] = measure(lambda u: oracle[u])
        block |= {
            "users": d.n_users,
            "items": d.n_items,
            "interactions": len(d),
            "test_users": len(inter.split.test_users),
            "generated": inter.generated,
        }
        for name in ("model", "most_popular", "svd", "oracle"):
            if name in block:
                s = block[name]
                log(
                    f"recommend {name}: recall@10 {s['recall_at_10']:.4f}, recall@20 "
                    f"{s['recall_at_20']:.4f}, ndcg@10 {s['ndcg_at_10']:.4f}"
                )
        return {"recommend": block}

    def recommendations(self, method: nn.Module) -> Recommendations:
        """Every user and item of the run embedded (unit rows), with what each user has."""
        inter = self.interactions
        d = inter.data
        users = recommender_of(method).embed_users(torch.arange(d.n_users))
        items = recommender_of(method).embed_items(torch.arange(d.n_items), self._features())
        return Recommendations(
            d.user_names, d.item_names, users.numpy(), items.numpy(), inter.seen()
        )

    def embed(
        self, method: nn.Module, data: str, log: Log, options: EmbedOptions = EmbedOptions()
    ) -> Embedded:
        """'train' (or 'items'): every item of the run (ids: the item ids); 'users': every
        user (ids: the user ids); or a CSV of items with the training feature columns
        (`item,<features>`): items the run knows by id and features, new ones (cold start)
        by their features only.

        Raises:
            UserError: --side texts, an unreadable CSV or one without the feature columns.
        """
        if options.side != "inputs":
            raise UserError("--side texts: this is an interactions run; it embeds items or users")
        d = self.interactions.data
        if data in ("train", "items", self.settings.data.source):
            vectors = recommender_of(method).embed_items(torch.arange(d.n_items), self._features())
            return Embedded(vectors, list(d.item_names), f"{d.name} items", info={"side": "items"})
        if data == "users":
            vectors = recommender_of(method).embed_users(torch.arange(d.n_users))
            return Embedded(vectors, list(d.user_names), f"{d.name} users", info={"side": "users"})
        names, array = self.item_vectors(method, Path(data), log)
        return Embedded(torch.from_numpy(array), names, Path(data).name, info={"side": "items"})

    def item_vectors(self, method: nn.Module, path: Path, log: Log) -> tuple[list[str], np.ndarray]:
        """The items of an item-features CSV embedded: known ids with their id embedding,
        new ones from their features alone. Shape: (N, D) unit rows."""
        d = self.interactions.data
        if not d.feature_names:
            raise UserError(
                f"{path}: this run's items have no feature columns, so new items cannot be "
                "embedded (cold start needs item features in the training CSV)"
            )
        names, features = read_item_features_csv(path, d.feature_names)
        code = {name: i for i, name in enumerate(d.item_names)}
        ids = torch.tensor([code.get(n, COLD) for n in names], dtype=torch.int64)
        new = int((ids == COLD).sum())
        log(f"{path.name}: {len(names)} items, {new} new (embedded from their features only)")
        return names, recommender_of(method).embed_items(ids, torch.from_numpy(features)).numpy()

    def query(self, method: nn.Module, query: str, info: dict[str, Any]) -> Tensor:
        """An item id of the run: its embedding (the items most similar to it in an item
        index; the users most drawn to it in a `--data users` index). Shape: (1, D).

        Raises:
            UserError: the run has no such item (names close ids).
        """
        d = self.interactions.data
        code = {name: i for i, name in enumerate(d.item_names)}.get(query)
        if code is None:
            raise UserError(
                f"--query: unknown item {query!r} (an interactions run is searched by item id; "
                f"{d.n_items} items in the run's data{close_ids(query, d.item_names)})"
            )
        features = self._features()
        return recommender_of(method).embed_items(
            torch.tensor([code]), None if features is None else features[code : code + 1]
        )

    def export_spec(self, method: nn.Module, *, max_items: int = 512) -> ExportSpec:
        raise UserError(
            "export: interactions runs are not exported to ONNX yet; use `contrastkit embed "
            "--data items` / `--data users` for the vectors, or `contrastkit serve` "
            "(/recommend, /search by id)"
        )

    def report_views(self, method: nn.Module) -> tuple[EmbeddingViews | None, str]:
        return None, (
            "embedding maps are not drawn for interactions runs: users and items have no "
            "class labels to colour them by (see the recommend table)"
        )
