"""Barlow Twins (Zbontar et al. 2021, arXiv:2103.03230): make the cross-correlation of the
two views' projections the identity matrix."""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field
from torch import Tensor, nn

from contrastkit.augment.types import Augment
from contrastkit.batches import ImageBatch
from contrastkit.losses import barlow_twins
from contrastkit.methods.options import MethodContext, MethodOptions
from contrastkit.methods.projectors import wide_projector
from contrastkit.methods.views import embed_two_views


class BarlowTwinsConfig(MethodOptions):
    """Barlow Twins (arXiv:2103.03230): cross-correlation to the identity.

    Paper: lambda 5e-3 with an 8192-wide 3-layer projector; digits: the model's projector.
    """

    name: Literal["barlow_twins"] = "barlow_twins"
    lambda_offdiag: float = Field(5e-3, gt=0.0)


class BarlowTwins(nn.Module):
    """Encoder + wide projector trained with the Barlow Twins loss.

    Args:
        encoder: (B, C, H, W) -> (B, D).
        projector: (B, D) -> (B, P); the paper's is 3 layers, 8192 wide.
        lambda_offdiag: Weight of the redundancy-reduction term (paper: 5e-3).
    """

    def __init__(self, encoder: nn.Module, projector: nn.Module, *, lambda_offdiag: float) -> None:
        super().__init__()
        if lambda_offdiag <= 0:
            raise ValueError(f"lambda_offdiag must be > 0, got {lambda_offdiag}")
        self.encoder = encoder
        self.projector = projector
        self.lambda_offdiag = lambda_offdiag

    def projection(self, images: Tensor) -> Tensor:
        """The embedding the loss compares (the health monitor's collapse check).
        Shape: (B, C, H, W) float -> (B, P)."""
        out: Tensor = self.projector(self.encoder(images))
        return out

    def training_loss(
        self, batch: ImageBatch, *, augment: Augment, generator: torch.Generator | None = None
    ) -> Tensor:
        """Barlow Twins loss of one batch. batch.images: Shape: (B, C, H, W)."""
        z_a, z_b = embed_two_views(self.projection, batch.images, augment, generator)
        return barlow_twins(z_a, z_b, lambda_offdiag=self.lambda_offdiag, gather=True)

    def after_step(self, progress: float) -> None:
        """Barlow Twins keeps no state between steps."""


def build_barlow_twins(
    options: BarlowTwinsConfig, encoder: nn.Module, ctx: MethodContext
) -> BarlowTwins:
    """Barlow Twins with a 3-layer projector of width `model.proj_hidden_dim`."""
    return BarlowTwins(encoder, wide_projector(ctx.model), lambda_offdiag=options.lambda_offdiag)
