"""SCARF (Bahri et al. 2022, arXiv:2106.15147): a table row and its corrupted view, NT-Xent.

The anchor is the row itself, the positive its corruption (`contrastkit.augment.tabular`:
SCARF replaces a random subset of features with draws from each column's empirical
distribution; VIME-style masking also fits). The loss is NT-Xent on the projections; the
paper's InfoNCE uses the corrupted views of the other rows as negatives, NT-Xent adds the
other anchors and makes it symmetric (as SimCLR does).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import torch
from pydantic import Field
from torch import Tensor, nn

from contrastkit.batches import RowBatch
from contrastkit.losses import NTXentLoss
from contrastkit.methods.base import InBatchMethod, Inputs, MethodContext, MethodOptions
from contrastkit.methods.projectors import projection_head


class SCARFConfig(MethodOptions):
    """SCARF (arXiv:2106.15147): InfoNCE between a table row and its corrupted copy; the
    corruption is the `augment` section's. Paper temperature 1.0."""

    name: Literal["scarf"] = "scarf"
    temperature: float = Field(1.0, gt=0.0)


class SCARF(InBatchMethod[RowBatch]):
    """Tabular encoder + projection head trained with NT-Xent between row and corruption.

    Args:
        encoder: (numeric (B, Dn), codes (B, Dc)) -> (B, D); what downstream tasks use.
        head: (B, D) -> (B, P); the loss sees its output.
        temperature: NT-Xent temperature (> 0; SCARF uses 1.0).
    """

    def __init__(self, encoder: nn.Module, head: nn.Module, *, temperature: float) -> None:
        super().__init__(encoder, head)
        self.loss = NTXentLoss(temperature=temperature)

    def views(
        self, batch: RowBatch, *, augment: Any, generator: torch.Generator | None = None
    ) -> tuple[Inputs, ...]:
        """The rows, then their corruptions, in one input (one pass: shared BatchNorm):
        numeric Shape (2B, Dn), codes Shape (2B, Dc)."""
        numeric, codes = batch.numeric, batch.codes
        num_view, cat_view = augment((numeric, codes), generator)
        return ({"numeric": torch.cat([numeric, num_view]), "codes": torch.cat([codes, cat_view])},)

    def embedding_loss(self, embeddings: Sequence[Tensor], batch: RowBatch) -> Tensor:
        z_row, z_view = embeddings[0].chunk(2)  # (B, P) each
        return self.loss(z_row, z_view)


def build_scarf(options: SCARFConfig, encoder: nn.Module, ctx: MethodContext) -> SCARF:
    """SCARF: a 2-layer projection head on `encoder` (as in the paper)."""
    return SCARF(encoder, projection_head(ctx.model), temperature=options.temperature)
