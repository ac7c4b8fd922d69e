"""VICReg (Bardes et al. 2022, arXiv:2105.04906): invariance + variance + covariance terms
on the two views' expander outputs; no negatives, no teacher."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field
from torch import nn

from contrastkit.losses import VICRegLoss
from contrastkit.methods.base import MethodContext, MethodOptions, TwoViewMethod
from contrastkit.methods.projectors import wide_projector


class VICRegConfig(MethodOptions):
    """VICReg (arXiv:2105.04906): invariance, variance and covariance terms (25, 25, 1)."""

    name: Literal["vicreg"] = "vicreg"
    invariance_weight: float = Field(25.0, ge=0.0)
    variance_weight: float = Field(25.0, ge=0.0)
    covariance_weight: float = Field(1.0, ge=0.0)


class VICReg(TwoViewMethod):
    """Encoder + expander trained with the VICReg loss.

    Args:
        encoder: (B, C, H, W) -> (B, D).
        head: The expander, (B, D) -> (B, P); the paper's is 3 layers, 8192 wide.
        invariance_weight, variance_weight, covariance_weight: lambda, mu, nu (25, 25, 1).
    """

    earlier_names: ClassVar = {"expander.": "head."}

    def __init__(
        self,
        encoder: nn.Module,
        head: nn.Module,
        *,
        invariance_weight: float,
        variance_weight: float,
        covariance_weight: float,
    ) -> None:
        loss = VICRegLoss(
            invariance_weight=invariance_weight,
            variance_weight=variance_weight,
            covariance_weight=covariance_weight,
            gather=True,
        )
        super().__init__(encoder, head, loss=loss)


def build_vicreg(options: VICRegConfig, encoder: nn.Module, ctx: MethodContext) -> VICReg:
    """VICReg with a 3-layer expander of width `model.proj_hidden_dim`."""
    return VICReg(
        encoder,
        wide_projector(ctx.model),
        invariance_weight=options.invariance_weight,
        variance_weight=options.variance_weight,
        covariance_weight=options.covariance_weight,
    )
