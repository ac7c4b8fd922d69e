"""An MLP encoder for table rows: numeric columns + learned embeddings of categorical codes."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class TabularMLP(nn.Module):
    """Embed each categorical column, concatenate with the numeric columns, then `depth`
    Linear-BatchNorm-ReLU layers of `width` units and a linear layer to `feature_dim`
    (SCARF's encoder is such an MLP, 4 layers of 256, arXiv:2106.15147).

    Args:
        num_numeric: Dn, numeric columns per row (may be 0).
        cardinalities: Codes per categorical column (code 0 = missing/unseen), one entry per
            column (may be empty).
        width: Hidden units per layer.
        depth: Hidden layers (>= 1).
        cat_embed_dim: Embedding size of every categorical column.
        feature_dim: Size of the representation `forward` returns.

    Shape:
        numeric (B, Dn) float, codes (B, Dc) int64 -> output (B, feature_dim).
    """

    def __init__(
        self,
        *,
        num_numeric: int,
        cardinalities: list[int],
        width: int = 256,
        depth: int = 3,
        cat_embed_dim: int = 8,
        feature_dim: int = 128,
    ) -> None:
        super().__init__()
        if num_numeric < 0 or num_numeric + len(cardinalities) == 0:
            raise ValueError(
                f"need num_numeric >= 0 and at least one column, got {num_numeric} numeric and "
                f"{len(cardinalities)} categorical"
            )
        if min([width, depth, cat_embed_dim, feature_dim, *cardinalities]) < 1:
            raise ValueError(
                f"width, depth, cat_embed_dim, feature_dim and cardinalities must be >= 1, got "
                f"{width}, {depth}, {cat_embed_dim}, {feature_dim}, {cardinalities}"
            )
        self.num_numeric = num_numeric
        self.cardinalities = list(cardinalities)
        self.feature_dim = feature_dim
        self.embeddings = nn.ModuleList(nn.Embedding(k, cat_embed_dim) for k in cardinalities)
        layers: list[nn.Module] = []
        d_in = num_numeric + cat_embed_dim * len(cardinalities)
        for _ in range(depth):
            layers += [nn.Linear(d_in, width, bias=False), nn.BatchNorm1d(width), nn.ReLU()]
            d_in = width
        layers.append(nn.Linear(d_in, feature_dim))
        self.net = nn.Sequential(*layers)

    def forward(self, numeric: Tensor, codes: Tensor) -> Tensor:
        if (
            numeric.ndim != 2
            or codes.ndim != 2
            or numeric.shape[0] != codes.shape[0]
            or numeric.shape[1] != self.num_numeric
            or codes.shape[1] != len(self.cardinalities)
        ):
            raise ValueError(
                f"expected numeric (B, {self.num_numeric}) and codes "
                f"(B, {len(self.cardinalities)}), got {tuple(numeric.shape)} and "
                f"{tuple(codes.shape)}"
            )
        parts = [numeric.float()]
        parts += [emb(codes[:, j]) for j, emb in enumerate(self.embeddings)]  # (B, E) each
        out: Tensor = self.net(torch.cat(parts, dim=1))  # (B, Dn + Dc * E) -> (B, feature_dim)
        return out
