"""SimSiam (Chen & He 2021, arXiv:2011.10566): a predictor and a stop-gradient on the
target branch are enough to avoid collapse, without negatives or an EMA."""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field
from torch import Tensor, nn

from contrastkit.augment.types import Augment
from contrastkit.batches import ImageBatch
from contrastkit.heads.projection import ProjectionHead
from contrastkit.losses import negative_cosine
from contrastkit.methods.options import MethodContext, MethodOptions
from contrastkit.methods.projectors import predictor
from contrastkit.methods.views import halves, stacked_views


class SimSiamConfig(MethodOptions):
    """SimSiam (arXiv:2011.10566): predictor + stop-gradient, no EMA, no negatives.

    Paper: 3-layer projector ending in BatchNorm (`projector_layers`, `projector_output_bn`),
    bottleneck predictor (2048 -> 512 -> 2048), i.e. hidden = dim / 4.
    `stop_gradient: false` removes the stop-gradient: the paper's collapse ablation.
    """

    name: Literal["simsiam"] = "simsiam"
    pred_hidden_dim: int = Field(16, ge=2, le=65536)
    projector_layers: int = Field(2, ge=1)
    projector_output_bn: bool = False
    stop_gradient: bool = True


class SimSiam(nn.Module):
    """L = D(p_1, sg(z_2)) / 2 + D(p_2, sg(z_1)) / 2, D the negative cosine similarity.

    Args:
        encoder: (B, C, H, W) -> (B, D).
        projector: (B, D) -> (B, P).
        predictor: (B, P) -> (B, P), a bottleneck MLP (paper hidden = P / 4).
        stop_gradient: False removes sg (the paper's ablation: the run collapses).
    """

    def __init__(
        self,
        encoder: nn.Module,
        projector: nn.Module,
        predictor: nn.Module,
        *,
        stop_gradient: bool = True,
    ) -> None:
        super().__init__()
        self.encoder = encoder
        self.projector = projector
        self.predictor = predictor
        self.stop_gradient = stop_gradient

    def projection(self, images: Tensor) -> Tensor:
        """The embedding the loss compares (the health monitor's collapse check).
        Shape: (B, C, H, W) float -> (B, P)."""
        out: Tensor = self.projector(self.encoder(images))
        return out

    def training_loss(
        self, batch: ImageBatch, *, augment: Augment, generator: torch.Generator | None = None
    ) -> Tensor:
        """Symmetrised SimSiam loss of one batch. batch.images: Shape: (B, C, H, W)."""
        z = self.projection(stacked_views(batch.images, augment, generator))  # (2B, P)
        p_1, p_2 = halves(self.predictor(z))  # (B, P) each
        z_1, z_2 = halves(z.detach() if self.stop_gradient else z)
        return 0.5 * (negative_cosine(p_1, z_2) + negative_cosine(p_2, z_1))

    def after_step(self, progress: float) -> None:
        """SimSiam keeps no state between steps."""


def build_simsiam(options: SimSiamConfig, encoder: nn.Module, ctx: MethodContext) -> SimSiam:
    """SimSiam with its projector (`projector_layers`, optional output BatchNorm) and a
    bottleneck predictor."""
    m = ctx.model
    projector = ProjectionHead(
        m.feature_dim,
        m.proj_hidden_dim,
        m.proj_dim,
        num_layers=options.projector_layers,
        output_bn=options.projector_output_bn,
    )
    return SimSiam(
        encoder,
        projector,
        predictor(m, options.pred_hidden_dim),
        stop_gradient=options.stop_gradient,
    )
