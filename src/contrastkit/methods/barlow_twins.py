"""Barlow Twins (Zbontar et al. 2021, arXiv:2103.03230): make the cross-correlation of the
two views' projections the identity matrix."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field
from torch import nn

from contrastkit.losses import BarlowTwinsLoss
from contrastkit.methods.base import MethodContext, MethodOptions, TwoViewMethod
from contrastkit.methods.projectors import wide_projector


class BarlowTwinsConfig(MethodOptions):
    """Barlow Twins (arXiv:2103.03230): cross-correlation to the identity.

    Paper: lambda 5e-3 with an 8192-wide 3-layer projector; digits: the model's projector.
    """

    name: Literal["barlow_twins"] = "barlow_twins"
    lambda_offdiag: float = Field(5e-3, gt=0.0)


class BarlowTwins(TwoViewMethod):
    """Encoder + wide projector trained with the Barlow Twins loss.

    Args:
        encoder: (B, C, H, W) -> (B, D).
        head: The projector, (B, D) -> (B, P); the paper's is 3 layers, 8192 wide.
        lambda_offdiag: Weight of the redundancy-reduction term (paper: 5e-3).
    """

    earlier_names: ClassVar = {"projector.": "head."}

    def __init__(self, encoder: nn.Module, head: nn.Module, *, lambda_offdiag: float) -> None:
        loss = BarlowTwinsLoss(lambda_offdiag=lambda_offdiag, gather=True)
        super().__init__(encoder, head, loss=loss)


def build_barlow_twins(
    options: BarlowTwinsConfig, encoder: nn.Module, ctx: MethodContext
) -> BarlowTwins:
    """Barlow Twins with a 3-layer projector of width `model.proj_hidden_dim`."""
    return BarlowTwins(encoder, wide_projector(ctx.model), lambda_offdiag=options.lambda_offdiag)
