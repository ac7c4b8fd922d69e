"""DCL / DCLW (Yeh et al. 2022, arXiv:2110.06848): SimCLR with the positive removed from
the denominator (decoupled), optionally with von Mises-Fisher weighted positives."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from torch import nn

from contrastkit.losses import DCLLoss
from contrastkit.methods.base import MethodContext, MethodOptions, TwoViewMethod
from contrastkit.methods.projectors import projection_head


class DCLConfig(MethodOptions):
    """DCL / DCLW (arXiv:2110.06848): the positive leaves the denominator.

    Paper: temperature 0.1; DCLW weights positives with a vMF kernel, sigma 0.5.
    `sigma: null` is plain DCL.
    """

    name: Literal["dcl"] = "dcl"
    temperature: float = Field(0.1, gt=0.0)
    sigma: float | None = Field(None, gt=0.0)


class DCL(TwoViewMethod):
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
        loss = DCLLoss(temperature=temperature, sigma=sigma, gather=True)
        super().__init__(encoder, head, loss=loss)


def build_dcl(options: DCLConfig, encoder: nn.Module, ctx: MethodContext) -> DCL:
    """DCL (or DCLW when `method.sigma` is set) with the 2-layer projection head."""
    return DCL(
        encoder, projection_head(ctx.model), temperature=options.temperature, sigma=options.sigma
    )
