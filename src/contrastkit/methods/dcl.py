"""DCL / DCLW (Yeh et al. 2022, arXiv:2110.06848): SimCLR with the positive removed from
the denominator (decoupled), optionally with von Mises-Fisher weighted positives."""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field
from torch import Tensor, nn

from contrastkit.augment.types import Augment
from contrastkit.batches import ImageBatch
from contrastkit.losses import dcl
from contrastkit.methods.options import MethodContext, MethodOptions
from contrastkit.methods.projectors import projection_head
from contrastkit.methods.views import embed_two_views


class DCLConfig(MethodOptions):
    """DCL / DCLW (arXiv:2110.06848): the positive leaves the denominator.

    Paper: temperature 0.1; DCLW weights positives with a vMF kernel, sigma 0.5.
    `sigma: null` is plain DCL.
    """

    name: Literal["dcl"] = "dcl"
    temperature: float = Field(0.1, gt=0.0)
    sigma: float | None = Field(None, gt=0.0)


class DCL(nn.Module):
    """Encoder + projection head trained with the decoupled contrastive loss.

    Args:
        encoder: (B, C, H, W) -> (B, D).
        head: (B, D) -> (B, P).
        temperature: > 0 (paper: 0.1).
        sigma: vMF weighting temperature of DCLW (paper: 0.5); None for DCL.
    """

    def __init__(
        self, encoder: nn.Module, head: nn.Module, *, temperature: float, sigma: float | None
    ) -> None:
        super().__init__()
        if temperature <= 0 or (sigma is not None and sigma <= 0):
            raise ValueError(f"temperature and sigma must be > 0, got {temperature}, {sigma}")
        self.encoder = encoder
        self.head = head
        self.temperature = temperature
        self.sigma = sigma

    def projection(self, images: Tensor) -> Tensor:
        """The embedding the loss compares (the health monitor's collapse check).
        Shape: (B, C, H, W) float -> (B, P)."""
        out: Tensor = self.head(self.encoder(images))
        return out

    def training_loss(
        self, batch: ImageBatch, *, augment: Augment, generator: torch.Generator | None = None
    ) -> Tensor:
        """DCL of one batch. batch.images: Shape: (B, C, H, W)."""
        z_a, z_b = embed_two_views(self.projection, batch.images, augment, generator)
        return dcl(z_a, z_b, temperature=self.temperature, sigma=self.sigma, gather=True)

    def after_step(self, progress: float) -> None:
        """DCL keeps no state between steps."""


def build_dcl(options: DCLConfig, encoder: nn.Module, ctx: MethodContext) -> DCL:
    """DCL (or DCLW when `method.sigma` is set) with the 2-layer projection head."""
    return DCL(
        encoder, projection_head(ctx.model), temperature=options.temperature, sigma=options.sigma
    )
