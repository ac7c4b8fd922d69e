"""The two towers of a recommender: users by id, items by id and by features.

An item's embedding is the sum of a learned id embedding and an MLP over its features.
During training the id part of each row is dropped with probability `id_dropout`, so the
feature path alone learns to place items in the space: a cold-start item (features but no
id embedding, id -1) is then embedded by its features.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

COLD = -1
"""Item id of an item without a learned id embedding (cold start: features only)."""


def _check_ids(name: str, ids: Tensor, count: int, *, allow_cold: bool) -> None:
    if ids.ndim != 1 or ids.dtype not in (torch.int32, torch.int64):
        raise ValueError(
            f"{name} must be an int64 tensor of shape (B,), got {ids.dtype} {tuple(ids.shape)}"
        )
    low = COLD if allow_cold else 0
    if ids.numel() and (int(ids.min()) < low or int(ids.max()) >= count):
        raise ValueError(
            f"{name} must be in [{low}, {count - 1}], got [{int(ids.min())}, {int(ids.max())}]"
        )


class UserTower(nn.Module):
    """A learned embedding per user.

    Args:
        num_users: Users with an id (codes 0..num_users-1).
        dim: Embedding size D.

    Shape:
        user_ids (B,) int64 -> (B, D).
    """

    def __init__(self, *, num_users: int, dim: int) -> None:
        super().__init__()
        if num_users < 1 or dim < 1:
            raise ValueError(f"need num_users >= 1 and dim >= 1, got {num_users}, {dim}")
        self.num_users, self.dim = num_users, dim
        self.embed = nn.Embedding(num_users, dim)
        nn.init.normal_(self.embed.weight, std=0.1)

    def forward(self, user_ids: Tensor) -> Tensor:
        _check_ids("user_ids", user_ids, self.num_users, allow_cold=False)
        out: Tensor = self.embed(user_ids)
        return out


class ItemTower(nn.Module):
    """``v_j = e_j * keep_j + MLP(f_j)``: id embedding (kept unless dropped or cold) plus a
    two-layer MLP over the item's features.

    Args:
        num_items: Items with an id (codes 0..num_items-1).
        num_features: F, feature columns per item (0 = id embedding only, no cold start).
        dim: Embedding size D.
        hidden: MLP hidden units.
        id_dropout: Probability, in training mode, of dropping a row's id embedding (whole
            vector), in [0, 1).

    Shape:
        item_ids (B,) int64 (-1 = cold start), features (B, F) float or None -> (B, D).
    """

    def __init__(
        self,
        *,
        num_items: int,
        num_features: int,
        dim: int,
        hidden: int = 128,
        id_dropout: float = 0.5,
    ) -> None:
        super().__init__()
        if num_items < 1 or num_features < 0 or dim < 1 or hidden < 1:
            raise ValueError(
                f"need num_items >= 1, num_features >= 0, dim >= 1, hidden >= 1, got "
                f"{num_items}, {num_features}, {dim}, {hidden}"
            )
        if not 0 <= id_dropout < 1:
            raise ValueError(f"id_dropout must be in [0, 1), got {id_dropout}")
        self.num_items, self.num_features, self.dim = num_items, num_features, dim
        self.id_dropout = id_dropout
        self.embed = nn.Embedding(num_items, dim)
        nn.init.normal_(self.embed.weight, std=0.1)
        self.features = (
            nn.Sequential(nn.Linear(num_features, hidden), nn.ReLU(), nn.Linear(hidden, dim))
            if num_features
            else None
        )

    def set_id_dropout(self, p: float) -> None:
        """Change the training-time id dropout (the method's option), in [0, 1)."""
        if not 0 <= p < 1:
            raise ValueError(f"id_dropout must be in [0, 1), got {p}")
        self.id_dropout = p

    def forward(
        self,
        item_ids: Tensor,
        features: Tensor | None,
        *,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        _check_ids("item_ids", item_ids, self.num_items, allow_cold=True)
        b = item_ids.shape[0]
        known = item_ids >= 0  # (B,)
        if self.features is None or features is None:
            if self.num_features:
                raise ValueError(f"this item tower reads {self.num_features} features per item")
            if not bool(known.all()):
                raise ValueError("cold-start items (id -1) need features: this tower has none")
            out: Tensor = self.embed(item_ids)
            return out
        if features.shape != (b, self.num_features):
            raise ValueError(
                f"features must have shape ({b}, {self.num_features}), got {tuple(features.shape)}"
            )
        keep = known
        if self.training and self.id_dropout > 0:
            draw = torch.rand(b, generator=generator, device="cpu").to(item_ids.device)
            keep = keep & (draw >= self.id_dropout)
        ids = item_ids.clamp(min=0)
        id_part = self.embed(ids) * keep[:, None].to(self.embed.weight.dtype)  # (B, D)
        feature_part: Tensor = self.features(features.to(self.embed.weight.dtype))
        return id_part + feature_part


class RecommenderTowers(nn.Module):
    """Both towers of a recommender, sized for one interaction data set: what the
    interactions modality's `new_encoder` makes and the two-tower method's builder takes
    apart (the user count, like the item count, comes from the data).

    Args:
        users: The user tower.
        items: The item tower, of the same embedding size (the method's section may set
            its id dropout).

    Raises:
        ValueError: The towers' embedding sizes differ.
    """

    def __init__(self, users: UserTower, items: ItemTower) -> None:
        super().__init__()
        if users.dim != items.dim:
            raise ValueError(f"the towers embed in {users.dim} and {items.dim} dimensions")
        self.users = users
        self.items = items
