"""SimCLR (Chen et al. 2020, arXiv:2002.05709): two random views, NT-Xent on projections."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from torch import nn

from contrastkit.losses import NTXentLoss
from contrastkit.methods.base import MethodContext, MethodOptions, TwoViewMethod
from contrastkit.methods.projectors import projection_head


class SimCLRConfig(MethodOptions):
    """SimCLR (arXiv:2002.05709): NT-Xent over two views; paper temperature 0.1-0.5."""

    name: Literal["simclr"] = "simclr"
    temperature: float = Field(0.2, gt=0.0)


class SimCLR(TwoViewMethod):
    """Encoder + projection head trained with NT-Xent between two views of each image;
    under torch.distributed the negatives are the projections of all ranks.

    Args:
        encoder: (B, C, H, W) -> (B, D); what downstream tasks use.
        head: (B, D) -> (B, P); the loss sees its output.
        temperature: NT-Xent temperature (> 0).
    """

    def __init__(self, encoder: nn.Module, head: nn.Module, *, temperature: float) -> None:
        super().__init__(encoder, head, loss=NTXentLoss(temperature=temperature, gather=True))


def build_simclr(options: SimCLRConfig, encoder: nn.Module, ctx: MethodContext) -> SimCLR:
    """SimCLR: the paper's 2-layer projection head on `encoder`."""
    return SimCLR(encoder, projection_head(ctx.model), temperature=options.temperature)
