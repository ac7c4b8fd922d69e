"""BYOL (Grill et al. 2020, arXiv:2006.07733): an online network with a predictor regresses
the projection of an EMA target network; the target's momentum follows a cosine schedule."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import torch
from pydantic import Field
from torch import Tensor, nn

from contrastkit.batches import ImageBatch
from contrastkit.losses import byol
from contrastkit.methods.base import MethodContext, MethodOptions, PredictorMomentumMethod
from contrastkit.methods.projectors import predictor, projection_head


class BYOLConfig(MethodOptions):
    """BYOL (arXiv:2006.07733): EMA target, predictor, normalised MSE.

    Paper: momentum 0.996 -> 1 (cosine over training), predictor hidden 4096. Digits: base
    momentum 0.99 (a few hundred steps instead of ~300k).
    """

    name: Literal["byol"] = "byol"
    momentum: float = Field(0.99, ge=0.0, le=1.0)
    pred_hidden_dim: int = Field(256, ge=2, le=65536)


class BYOL(PredictorMomentumMethod):
    """Online (encoder, head, predictor) and an EMA target (encoder, head).

    L = byol(q_1, z'_2) + byol(q_2, z'_1), byol(q, z) = 2 - 2 cos(q, z); the target z'
    has no gradient.

    Args:
        encoder: (B, C, H, W) -> (B, D).
        head: The projector, (B, D) -> (B, P).
        predictor: (B, P) -> (B, P).
        momentum: Base target momentum tau_base (paper: 0.996), cosine to 1.
    """

    earlier_names: ClassVar = {"projector.": "head."}

    def training_loss(
        self, batch: ImageBatch, *, augment: Any, generator: torch.Generator | None = None
    ) -> Tensor:
        """Symmetrised BYOL loss of one batch. batch.images: Shape: (B, C, H, W)."""
        return self.cross_view_loss(batch, augment=augment, generator=generator, loss=byol)


def build_byol(options: BYOLConfig, encoder: nn.Module, ctx: MethodContext) -> BYOL:
    """BYOL with 2-layer projector and predictor (hidden `method.pred_hidden_dim`)."""
    return BYOL(
        encoder,
        projection_head(ctx.model),
        predictor(ctx.model, options.pred_hidden_dim),
        momentum=options.momentum,
    )
