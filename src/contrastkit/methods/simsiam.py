"""SimSiam (Chen & He 2021, arXiv:2011.10566): a predictor and a stop-gradient on the
target branch are enough to avoid collapse, without negatives or an EMA."""

from __future__ import annotations

from typing import ClassVar, Literal

import torch
from pydantic import Field
from torch import Tensor, nn

from contrastkit.batches import ImageBatch
from contrastkit.heads.projection import ProjectionHead
from contrastkit.losses import negative_cosine
from contrastkit.methods.base import MethodContext, MethodOptions, TwoViewMethod
from contrastkit.methods.projectors import predictor
from contrastkit.methods.views import halves


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


class SimSiam(TwoViewMethod):
    """L = D(p_1, sg(z_2)) / 2 + D(p_2, sg(z_1)) / 2, D the negative cosine similarity.

    Args:
        encoder: (B, C, H, W) -> (B, D).
        head: The projector, (B, D) -> (B, P).
        predictor: (B, P) -> (B, P), a bottleneck MLP (paper hidden = P / 4).
        stop_gradient: False removes sg (the paper's ablation: the run collapses).
    """

    earlier_names: ClassVar = {"projector.": "head."}

    def __init__(
        self,
        encoder: nn.Module,
        head: nn.Module,
        predictor: nn.Module,
        *,
        stop_gradient: bool = True,
    ) -> None:
        super().__init__(encoder, head, loss=negative_cosine)
        self.predictor = predictor
        self.stop_gradient = stop_gradient

    def view_loss(self, z_a: Tensor, z_b: Tensor, batch: ImageBatch) -> Tensor:
        """Symmetrised SimSiam loss of the two views' projections, Shape: (B, P) each."""
        p_1, p_2 = halves(self.predictor(torch.cat([z_a, z_b])))  # one pass: (B, P) each
        if self.stop_gradient:
            z_a, z_b = z_a.detach(), z_b.detach()
        return 0.5 * (self.loss(p_1, z_b) + self.loss(p_2, z_a))


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
