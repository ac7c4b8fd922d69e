"""Two-tower contrastive recommender (Yi et al. 2019, doi:10.1145/3298689.3346996):
a user tower and an item tower trained with the in-batch sampled softmax and the log-Q
popularity correction (`contrastkit.losses.sampled_softmax`); items with features can be
recommended before anyone interacted with them (cold start, see `ItemTower`).

The method's options are the `two_tower` section (`TwoTowerConfig`); the towers are sized
from the data by the interactions modality (`RecommenderTowers`: user and item counts,
feature columns; embedding size `model.feature_dim`, feature MLP `model.width`), and
`build_two_tower` wraps them.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import Tensor, nn

from contrastkit.batches import InteractionBatch
from contrastkit.encoders.item_tower import ItemTower, RecommenderTowers, UserTower
from contrastkit.losses import SampledSoftmaxLoss
from contrastkit.methods.base import Method, MethodContext, MethodOptions

__all__ = ["InteractionBatch", "TwoTowerConfig", "TwoTowerRecommender", "build_two_tower"]


class TwoTowerConfig(MethodOptions):
    """The `two_tower` method section (interactions data only).

    `temperature` is the sampled softmax's tau (logit scale 1 / tau; 0.2 was the best of
    0.05-0.5 on generated data, benchmarks/use.py); `log_q_correction` subtracts each
    in-batch item's log training frequency from its logit (Yi et al. 2019); `id_dropout` is
    the probability of dropping an item's id embedding in a training row, so that the
    feature path learns to place items alone (cold start; no effect without feature
    columns); `gather` makes every process's items negatives under torchrun.
    """

    name: Literal["two_tower"] = "two_tower"
    temperature: float = Field(0.2, gt=0.0, le=10.0)
    log_q_correction: bool = True
    id_dropout: float = Field(0.3, ge=0.0, lt=1.0)
    gather: bool = False


class TwoTowerRecommender(Method[InteractionBatch]):
    """User tower + item tower, cosine similarity, sampled softmax with log-Q correction.

    Args:
        user_tower: User ids (B,) -> (B, D).
        encoder: The item tower, (ids (B,), features (B, F)) -> (B, D); named `encoder`
            because it is what embeds the items other commands index and search.
        temperature: tau > 0 of the sampled softmax (logit scale 1 / tau).
        log_q_correction: Subtract log q_j from the logits (False: plain in-batch softmax).
        gather: The items of every process are negatives (`torch.distributed`).
    """

    encoder: ItemTower

    def __init__(
        self,
        user_tower: UserTower,
        encoder: ItemTower,
        *,
        temperature: float = 0.05,
        log_q_correction: bool = True,
        gather: bool = False,
    ) -> None:
        if user_tower.dim != encoder.dim:
            raise ValueError(f"tower sizes differ: users {user_tower.dim}, items {encoder.dim}")
        super().__init__(encoder)
        self.user_tower = user_tower
        self.loss = SampledSoftmaxLoss(temperature=temperature, gather=gather)
        self.log_q_correction = log_q_correction

    def training_loss(
        self,
        batch: InteractionBatch,
        *,
        augment: Any = None,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """Sampled softmax of one batch; `augment` is unused (no views of an id), the
        generator draws the item-id dropout."""
        if not isinstance(batch, InteractionBatch):
            raise ValueError(
                f"TwoTowerRecommender expects an InteractionBatch, got {type(batch).__name__}"
            )
        u = self.user_tower(batch.users)  # (B, D)
        v = self.encoder(batch.item_ids, batch.features, generator=generator)  # (B, D)
        log_q = batch.log_q if self.log_q_correction else None
        return self.loss(u, v, log_q, item_ids=batch.item_ids)

    @torch.no_grad()
    def embed_users(self, user_ids: Tensor) -> Tensor:
        """Unit-norm user embeddings, eval mode, float32 on the CPU. Shape: (U,) -> (U, D)."""
        device = self.user_tower.embed.weight.device
        return F.normalize(self.user_tower(user_ids.to(device)).float(), dim=1).cpu()

    @torch.no_grad()
    def embed_items(
        self, item_ids: Tensor, features: Tensor | None, *, batch_size: int = 4096
    ) -> Tensor:
        """Unit-norm item embeddings in eval mode (id -1 = cold start, features only),
        float32 on the CPU. Shape: (I,), (I, F) -> (I, D)."""
        device = self.encoder.embed.weight.device
        was_training = self.encoder.training
        self.encoder.eval()
        try:
            parts = [
                self.encoder(
                    item_ids[s : s + batch_size].to(device),
                    None if features is None else features[s : s + batch_size].to(device),
                ).float()
                for s in range(0, len(item_ids), batch_size)
            ]
        finally:
            self.encoder.train(was_training)
        return F.normalize(torch.cat(parts), dim=1).cpu()

    def scores(self, user_ids: Tensor, item_ids: Tensor, features: Tensor | None) -> Tensor:
        """Cosine similarity of each user to each item. Shape: (U, I)."""
        return self.embed_users(user_ids) @ self.embed_items(item_ids, features).T


def build_two_tower(
    section: TwoTowerConfig, encoder: nn.Module, ctx: MethodContext
) -> TwoTowerRecommender:
    """The recommender on the towers the interactions modality made for its data.

    Raises:
        ValueError: `encoder` is not a `RecommenderTowers` (the method trains on
            interactions only; the modality check says so first).
    """
    if not isinstance(encoder, RecommenderTowers):
        raise ValueError(
            f"two_tower wraps the towers of interactions data, got {type(encoder).__name__}"
        )
    encoder.items.set_id_dropout(section.id_dropout)
    return TwoTowerRecommender(
        encoder.users,
        encoder.items,
        temperature=section.temperature,
        log_q_correction=section.log_q_correction,
        gather=section.gather,
    )
