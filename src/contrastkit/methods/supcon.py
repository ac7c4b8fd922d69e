"""Supervised contrastive learning (Khosla et al. 2020, arXiv:2004.11362): every view of a
sample with the same label is a positive (SupCon L_out)."""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field
from torch import Tensor, nn

from contrastkit.augment.types import Augment
from contrastkit.batches import ImageBatch
from contrastkit.losses import supcon
from contrastkit.methods.options import MethodContext, MethodOptions
from contrastkit.methods.projectors import projection_head
from contrastkit.methods.views import embed_two_views


class SupConConfig(MethodOptions):
    """SupCon (arXiv:2004.11362): labels define the positives; paper temperature 0.1."""

    name: Literal["supcon"] = "supcon"
    temperature: float = Field(0.1, gt=0.0)


class SupCon(nn.Module):
    """Encoder + projection head trained with SupCon on two views per labelled image.

    Its registry entry says `needs_labels`: every training image must carry a label.

    Args:
        encoder: (B, C, H, W) -> (B, D).
        head: (B, D) -> (B, P).
        temperature: > 0 (paper: 0.1).
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
        """SupCon of one batch: batch.images Shape (B, C, H, W), batch.labels Shape (B,)."""
        z_a, z_b = embed_two_views(self.projection, batch.images, augment, generator)
        z = torch.stack([z_a, z_b], dim=1)  # (B, 2, P)
        return supcon(z, batch.labels, temperature=self.temperature, gather=True)

    def after_step(self, progress: float) -> None:
        """SupCon keeps no state between steps."""


def build_supcon(options: SupConConfig, encoder: nn.Module, ctx: MethodContext) -> SupCon:
    """SupCon with the 2-layer projection head."""
    return SupCon(encoder, projection_head(ctx.model), temperature=options.temperature)
