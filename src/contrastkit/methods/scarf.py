"""SCARF (Bahri et al. 2022, arXiv:2106.15147): a table row and its corrupted view, NT-Xent.

The anchor is the row itself, the positive its corruption (`contrastkit.augment.tabular`:
SCARF replaces a random subset of features with draws from each column's empirical
distribution; VIME-style masking also fits). The loss is NT-Xent on the projections; the
paper's InfoNCE uses the corrupted views of the other rows as negatives, NT-Xent adds the
other anchors and makes it symmetric (as SimCLR does).
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field
from torch import Tensor, nn

from contrastkit.augment.tabular import RowAugment
from contrastkit.batches import RowBatch
from contrastkit.losses import nt_xent
from contrastkit.methods.options import MethodContext, MethodOptions
from contrastkit.methods.projectors import projection_head


class SCARFConfig(MethodOptions):
    """SCARF (arXiv:2106.15147): InfoNCE between a table row and its corrupted copy; the
    corruption is the `augment` section's. Paper temperature 1.0."""

    name: Literal["scarf"] = "scarf"
    temperature: float = Field(1.0, gt=0.0)


class SCARF(nn.Module):
    """Tabular encoder + projection head trained with NT-Xent between row and corruption.

    Args:
        encoder: (numeric (B, Dn), codes (B, Dc)) -> (B, D); what downstream tasks use.
        head: (B, D) -> (B, P); the loss sees its output.
        temperature: NT-Xent temperature (> 0; SCARF uses 1.0).
    """

    def __init__(self, encoder: nn.Module, head: nn.Module, *, temperature: float) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        self.encoder = encoder
        self.head = head
        self.temperature = temperature

    def training_loss(
        self, batch: RowBatch, *, augment: RowAugment, generator: torch.Generator | None = None
    ) -> Tensor:
        """NT-Xent of one batch: batch.numeric Shape (B, Dn), batch.codes Shape (B, Dc)."""
        numeric, codes = batch.numeric, batch.codes
        num_view, cat_view = augment((numeric, codes), generator)
        both_num = torch.cat([numeric, num_view])  # (2B, Dn): one pass, shared BatchNorm
        both_cat = torch.cat([codes, cat_view])  # (2B, Dc)
        z = self.head(self.encoder(both_num, both_cat))  # (2B, P)
        z_row, z_view = z.chunk(2)
        return nt_xent(z_row, z_view, temperature=self.temperature)

    def after_step(self, progress: float) -> None:
        """SCARF keeps no state between steps."""


def build_scarf(options: SCARFConfig, encoder: nn.Module, ctx: MethodContext) -> SCARF:
    """SCARF: a 2-layer projection head on `encoder` (as in the paper)."""
    return SCARF(encoder, projection_head(ctx.model), temperature=options.temperature)
