"""NNCLR (Dwibedi et al. 2021, arXiv:2104.14548): the positive of a view is its nearest
neighbour in a support set of past projections, not the other view itself."""

from __future__ import annotations

from typing import ClassVar, Literal

import torch
from pydantic import Field
from torch import Tensor, nn

from contrastkit.batches import ImageBatch
from contrastkit.losses import InfoNCELoss
from contrastkit.methods.base import MethodContext, MethodOptions, TwoViewMethod
from contrastkit.methods.projectors import predictor, projection_head
from contrastkit.methods.queue import FeatureQueue, nearest_neighbours
from contrastkit.methods.views import halves


class NNCLRConfig(MethodOptions):
    """NNCLR (arXiv:2104.14548): the nearest neighbour in a support set is the positive.

    Paper: support set 98304, temperature 0.1, predictor hidden 4096. Digits: support 1024.
    """

    name: Literal["nnclr"] = "nnclr"
    temperature: float = Field(0.1, gt=0.0)
    support_size: int = Field(1024, ge=1, le=2**24)
    pred_hidden_dim: int = Field(256, ge=2, le=65536)


class NNCLR(TwoViewMethod):
    """L = (InfoNCE(NN(z_1), p_2) + InfoNCE(NN(z_2), p_1)) / 2, NN(z) the most similar row
    of the support set (no gradient), p = predictor(z); the other predictions of the batch
    (all ranks) are the negatives. Until the support set has rows, NN(z) = z.

    Args:
        encoder: (B, C, H, W) -> (B, D).
        head: The projector, (B, D) -> (B, P).
        predictor: (B, P) -> (B, P).
        temperature: > 0 (paper: 0.1).
        support_size: Rows of the support set (paper: 98304).
    """

    earlier_names: ClassVar = {"projector.": "head."}
    support: FeatureQueue

    def __init__(
        self,
        encoder: nn.Module,
        head: nn.Module,
        predictor: nn.Module,
        *,
        proj_dim: int,
        temperature: float,
        support_size: int,
    ) -> None:
        super().__init__(encoder, head, loss=InfoNCELoss(temperature=temperature, gather=True))
        self.predictor = predictor
        self.support = FeatureQueue(size=support_size, dim=proj_dim)
        self._pending: Tensor | None = None

    def _neighbour(self, z: Tensor) -> Tensor:
        if int(self.support.filled) == 0:
            return z.detach()
        return nearest_neighbours(z, self.support.features())

    def view_loss(self, z_a: Tensor, z_b: Tensor, batch: ImageBatch) -> Tensor:
        """NNCLR loss of the two views' projections, Shape: (B, P) each."""
        p_1, p_2 = halves(self.predictor(torch.cat([z_a, z_b])))  # one pass: (B, P) each
        loss = self.loss(self._neighbour(z_a), p_2) + self.loss(self._neighbour(z_b), p_1)
        self._pending = z_a.detach()
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
