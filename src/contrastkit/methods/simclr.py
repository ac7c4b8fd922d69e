"""SimCLR (Chen et al. 2020, arXiv:2002.05709): two random views, NT-Xent on projections."""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field
from torch import Tensor, nn

from contrastkit.augment.types import Augment
from contrastkit.batches import ImageBatch
from contrastkit.losses import nt_xent
from contrastkit.methods.options import MethodContext, MethodOptions
from contrastkit.methods.projectors import projection_head
from contrastkit.methods.views import embed_two_views


class SimCLRConfig(MethodOptions):
    """SimCLR (arXiv:2002.05709): NT-Xent over two views; paper temperature 0.1-0.5."""

    name: Literal["simclr"] = "simclr"
    temperature: float = Field(0.2, gt=0.0)


class SimCLR(nn.Module):
    """Encoder + projection head trained with NT-Xent between two views of each image.

    Under torch.distributed the negatives are the projections of all ranks (`gather=True`).

    Args:
        encoder: (B, C, H, W) -> (B, D); what downstream tasks use.
        head: (B, D) -> (B, P); the loss sees its output.
        temperature: NT-Xent temperature (> 0).
    """

    def __init__(self, encoder: nn.Module, head: nn.Module, *, temperature: float) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        self.encoder = encoder
        self.head = head
        self.temperature = temperature

    def projection(self, images: Tensor) -> Tensor:
        """The embedding the loss compares (the health monitor's collapse check).
        Shape: (B, C, H, W) float -> (B, P)."""
        out: Tensor = self.head(self.encoder(images))
        return out

    def training_loss(
        self, batch: ImageBatch, *, augment: Augment, generator: torch.Generator | None = None
    ) -> Tensor:
        """NT-Xent of one batch. batch.images: Shape: (B, C, H, W), uint8 or float."""
        z_a, z_b = embed_two_views(self.projection, batch.images, augment, generator)
        return nt_xent(z_a, z_b, temperature=self.temperature, gather=True)

    def after_step(self, progress: float) -> None:
        """SimCLR keeps no state between steps (no EMA, no queue)."""


def build_simclr(options: SimCLRConfig, encoder: nn.Module, ctx: MethodContext) -> SimCLR:
    """SimCLR: the paper's 2-layer projection head on `encoder`."""
    return SimCLR(encoder, projection_head(ctx.model), temperature=options.temperature)
