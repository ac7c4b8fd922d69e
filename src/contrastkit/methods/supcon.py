"""Supervised contrastive learning (Khosla et al. 2020, arXiv:2004.11362): every view of a
sample with the same label is a positive (SupCon L_out)."""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field
from torch import Tensor, nn

from contrastkit.batches import ImageBatch
from contrastkit.losses import SupConLoss
from contrastkit.methods.base import MethodContext, MethodOptions, TwoViewMethod
from contrastkit.methods.projectors import projection_head


class SupConConfig(MethodOptions):
    """SupCon (arXiv:2004.11362): labels define the positives; paper temperature 0.1."""

    name: Literal["supcon"] = "supcon"
    temperature: float = Field(0.1, gt=0.0)


class SupCon(TwoViewMethod):
    """Encoder + projection head trained with SupCon on two views per labelled image.

    Its registry entry says `needs_labels`: every training image must carry a label.

    Args:
        encoder: (B, C, H, W) -> (B, D).
        head: (B, D) -> (B, P).
        temperature: > 0 (paper: 0.1).
    """

    def __init__(self, encoder: nn.Module, head: nn.Module, *, temperature: float) -> None:
        super().__init__(encoder, head, loss=SupConLoss(temperature=temperature, gather=True))

    def view_loss(self, z_a: Tensor, z_b: Tensor, batch: ImageBatch) -> Tensor:
        """SupCon over both views, positives by batch.labels (Shape: (B,))."""
        return self.loss(torch.stack([z_a, z_b], dim=1), batch.labels)  # z: (B, 2, P)


def build_supcon(options: SupConConfig, encoder: nn.Module, ctx: MethodContext) -> SupCon:
    """SupCon with the 2-layer projection head."""
    return SupCon(encoder, projection_head(ctx.model), temperature=options.temperature)
