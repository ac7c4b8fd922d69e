"""VICReg (Bardes et al. 2022, arXiv:2105.04906): invariance + variance + covariance terms
on the two views' expander outputs; no negatives, no teacher."""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field
from torch import Tensor, nn

from contrastkit.augment.types import Augment
from contrastkit.batches import ImageBatch
from contrastkit.losses import vicreg
from contrastkit.methods.options import MethodContext, MethodOptions
from contrastkit.methods.projectors import wide_projector
from contrastkit.methods.views import embed_two_views


class VICRegConfig(MethodOptions):
    """VICReg (arXiv:2105.04906): invariance, variance and covariance terms (25, 25, 1)."""

    name: Literal["vicreg"] = "vicreg"
    invariance_weight: float = Field(25.0, ge=0.0)
    variance_weight: float = Field(25.0, ge=0.0)
    covariance_weight: float = Field(1.0, ge=0.0)


class VICReg(nn.Module):
    """Encoder + expander trained with the VICReg loss.

    Args:
        encoder: (B, C, H, W) -> (B, D).
        expander: (B, D) -> (B, P); the paper's is 3 layers, 8192 wide.
        invariance_weight, variance_weight, covariance_weight: lambda, mu, nu (25, 25, 1).
    """

    def __init__(
        self,
        encoder: nn.Module,
        expander: nn.Module,
        *,
        invariance_weight: float,
        variance_weight: float,
        covariance_weight: float,
    ) -> None:
        super().__init__()
        if min(invariance_weight, variance_weight, covariance_weight) < 0:
            raise ValueError("VICReg weights must be >= 0")
        self.encoder = encoder
        self.expander = expander
        self.weights = (invariance_weight, variance_weight, covariance_weight)

    def projection(self, images: Tensor) -> Tensor:
        """The embedding the loss compares (the health monitor's collapse check).
        Shape: (B, C, H, W) float -> (B, P)."""
        out: Tensor = self.expander(self.encoder(images))
        return out

    def training_loss(
        self, batch: ImageBatch, *, augment: Augment, generator: torch.Generator | None = None
    ) -> Tensor:
        """VICReg loss of one batch. batch.images: Shape: (B, C, H, W)."""
        z_a, z_b = embed_two_views(self.projection, batch.images, augment, generator)
        lam, mu, nu = self.weights
        return vicreg(
            z_a,
            z_b,
            invariance_weight=lam,
            variance_weight=mu,
            covariance_weight=nu,
            gather=True,
        )

    def after_step(self, progress: float) -> None:
        """VICReg keeps no state between steps."""


def build_vicreg(options: VICRegConfig, encoder: nn.Module, ctx: MethodContext) -> VICReg:
    """VICReg with a 3-layer expander of width `model.proj_hidden_dim`."""
    return VICReg(
        encoder,
        wide_projector(ctx.model),
        invariance_weight=options.invariance_weight,
        variance_weight=options.variance_weight,
        covariance_weight=options.covariance_weight,
    )
