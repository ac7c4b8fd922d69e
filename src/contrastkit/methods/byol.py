"""BYOL (Grill et al. 2020, arXiv:2006.07733): an online network with a predictor regresses
the projection of an EMA target network; the target's momentum follows a cosine schedule."""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field
from torch import Tensor, nn

from contrastkit.augment.types import Augment
from contrastkit.batches import ImageBatch
from contrastkit.losses import byol
from contrastkit.methods.ema import EMATeacher, cosine_momentum
from contrastkit.methods.options import MethodContext, MethodOptions
from contrastkit.methods.projectors import predictor, projection_head
from contrastkit.methods.views import halves, stacked_views


class BYOLConfig(MethodOptions):
    """BYOL (arXiv:2006.07733): EMA target, predictor, normalised MSE.

    Paper: momentum 0.996 -> 1 (cosine over training), predictor hidden 4096. Digits: base
    momentum 0.99 (a few hundred steps instead of ~300k).
    """

    name: Literal["byol"] = "byol"
    momentum: float = Field(0.99, ge=0.0, le=1.0)
    pred_hidden_dim: int = Field(256, ge=2, le=65536)


class BYOL(nn.Module):
    """Online (encoder, projector, predictor) and an EMA target (encoder, projector).

    L = byol(q_1, z'_2) + byol(q_2, z'_1), byol(q, z) = 2 - 2 cos(q, z); the target z'
    has no gradient. After each step the target moves by 1 - tau(p),
    tau(p) = 1 - (1 - momentum) (cos(pi p) + 1) / 2.

    Args:
        encoder: (B, C, H, W) -> (B, D).
        projector: (B, D) -> (B, P).
        predictor: (B, P) -> (B, P).
        momentum: Base target momentum tau_base (paper: 0.996).
    """

    def __init__(
        self, encoder: nn.Module, projector: nn.Module, predictor: nn.Module, *, momentum: float
    ) -> None:
        super().__init__()
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"momentum must be in [0, 1], got {momentum}")
        self.encoder = encoder
        self.projector = projector
        self.predictor = predictor
        self.target = EMATeacher(nn.Sequential(encoder, projector))
        self.momentum = momentum

    def projection(self, images: Tensor) -> Tensor:
        """The embedding the loss compares (the health monitor's collapse check).
        Shape: (B, C, H, W) float -> (B, P)."""
        out: Tensor = self.projector(self.encoder(images))
        return out

    def training_loss(
        self, batch: ImageBatch, *, augment: Augment, generator: torch.Generator | None = None
    ) -> Tensor:
        """Symmetrised BYOL loss of one batch. batch.images: Shape: (B, C, H, W)."""
        views = stacked_views(batch.images, augment, generator)  # (2B, ...)
        q_1, q_2 = halves(self.predictor(self.projection(views)))  # (B, P) each
        z_1, z_2 = halves(self.target(views))  # (B, P) each, no gradient
        return byol(q_1, z_2) + byol(q_2, z_1)

    def after_step(self, progress: float) -> None:
        """Move the target towards the online network (cosine momentum schedule)."""
        tau = cosine_momentum(progress, base=self.momentum)
        self.target.update(nn.Sequential(self.encoder, self.projector), tau)


def build_byol(options: BYOLConfig, encoder: nn.Module, ctx: MethodContext) -> BYOL:
    """BYOL with 2-layer projector and predictor (hidden `method.pred_hidden_dim`)."""
    return BYOL(
        encoder,
        projection_head(ctx.model),
        predictor(ctx.model, options.pred_hidden_dim),
        momentum=options.momentum,
    )
