"""NNCLR (Dwibedi et al. 2021, arXiv:2104.14548): the positive of a view is its nearest
neighbour in a support set of past projections, not the other view itself."""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field
from torch import Tensor, nn

from contrastkit.augment.types import Augment
from contrastkit.batches import ImageBatch
from contrastkit.losses import info_nce
from contrastkit.methods.options import MethodContext, MethodOptions
from contrastkit.methods.projectors import predictor, projection_head
from contrastkit.methods.queue import FeatureQueue, nearest_neighbours
from contrastkit.methods.views import halves, stacked_views


class NNCLRConfig(MethodOptions):
    """NNCLR (arXiv:2104.14548): the nearest neighbour in a support set is the positive.

    Paper: support set 98304, temperature 0.1, predictor hidden 4096. Digits: support 1024.
    """

    name: Literal["nnclr"] = "nnclr"
    temperature: float = Field(0.1, gt=0.0)
    support_size: int = Field(1024, ge=1, le=2**24)
    pred_hidden_dim: int = Field(256, ge=2, le=65536)


class NNCLR(nn.Module):
    """L = (InfoNCE(NN(z_1), p_2) + InfoNCE(NN(z_2), p_1)) / 2, NN(z) the most similar row
    of the support set (no gradient), p = predictor(z); the other predictions of the batch
    (all ranks) are the negatives. Until the support set has rows, NN(z) = z.

    Args:
        encoder: (B, C, H, W) -> (B, D).
        projector: (B, D) -> (B, P).
        predictor: (B, P) -> (B, P).
        temperature: > 0 (paper: 0.1).
        support_size: Rows of the support set (paper: 98304).
    """

    support: FeatureQueue

    def __init__(
        self,
        encoder: nn.Module,
        projector: nn.Module,
        predictor: nn.Module,
        *,
        proj_dim: int,
        temperature: float,
        support_size: int,
    ) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        self.encoder = encoder
        self.projector = projector
        self.predictor = predictor
        self.support = FeatureQueue(size=support_size, dim=proj_dim)
        self.temperature = temperature
        self._pending: Tensor | None = None

    def _neighbour(self, z: Tensor) -> Tensor:
        if int(self.support.filled) == 0:
            return z.detach()
        return nearest_neighbours(z, self.support.features())

    def projection(self, images: Tensor) -> Tensor:
        """The embedding the loss compares (the health monitor's collapse check).
        Shape: (B, C, H, W) float -> (B, P)."""
        out: Tensor = self.projector(self.encoder(images))
        return out

    def training_loss(
        self, batch: ImageBatch, *, augment: Augment, generator: torch.Generator | None = None
    ) -> Tensor:
        """NNCLR loss of one batch. batch.images: Shape: (B, C, H, W)."""
        z = self.projection(stacked_views(batch.images, augment, generator))  # (2B, P)
        p_1, p_2 = halves(self.predictor(z))  # (B, P) each
        z_1, z_2 = halves(z)
        t = self.temperature
        loss = info_nce(self._neighbour(z_1), p_2, t, gather=True) + info_nce(
            self._neighbour(z_2), p_1, t, gather=True
        )
        self._pending = z_1.detach()
        return 0.5 * loss

    def after_step(self, progress: float) -> None:
        """Add this step's view-1 projections to the support set."""
        if self._pending is not None:
            self.support.push(self._pending)
            self._pending = None


def build_nnclr(options: NNCLRConfig, encoder: nn.Module, ctx: MethodContext) -> NNCLR:
    """NNCLR with a 2-layer projector and predictor."""
    return NNCLR(
        encoder,
        projection_head(ctx.model),
        predictor(ctx.model, options.pred_hidden_dim),
        proj_dim=ctx.model.proj_dim,
        temperature=options.temperature,
        support_size=options.support_size,
    )
