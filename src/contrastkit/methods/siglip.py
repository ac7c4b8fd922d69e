"""SigLIP (Zhai et al. 2023, arXiv:2303.15343): a binary sigmoid loss for every pair of a
batch, with a learned logit scale and bias; no softmax over the batch."""

from __future__ import annotations

import math
from typing import Any, ClassVar, Literal

from pydantic import Field
from torch import Tensor, nn

from contrastkit.losses import SigmoidPairsLoss
from contrastkit.methods.base import MethodContext
from contrastkit.methods.towers import TwoTower, TwoTowerOptions, build_towers


class SigLIPConfig(TwoTowerOptions):
    """SigLIP (arXiv:2303.15343): one sigmoid per pair, learned scale and bias.

    `init_scale` starts the logit scale (paper: 10). `init_bias` starts the bias; its
    default, -ln(train.batch_size), is the prior that one pair in a batch is positive: the
    paper's -10 is that prior for its 32k batch, and at batch 128 it held the spoken words
    on a loss plateau for about 12 epochs, where -ln 128 = -4.85 left it after 5
    (docs/multimodal.md).
    """

    name: Literal["siglip"] = "siglip"
    init_scale: float = Field(10.0, gt=0.0)
    init_bias: float | None = None


class SigLIP(TwoTower):
    """Two towers aligned with the pairwise sigmoid loss (`SigmoidPairsLoss`: learned
    log-scale and bias).

    Args:
        encoder, text_encoder: The towers, as `TwoTower`'s.
        init_scale: The initial logit scale (> 0).
        init_bias: The initial logit bias.
        **towers: `TwoTower`'s other keyword arguments (tokenizer, sizes, gather).
    """

    earlier_names: ClassVar = {"log_scale": None}

    def __init__(
        self,
        encoder: nn.Module,
        text_encoder: nn.Module,
        *,
        init_scale: float = 10.0,
        init_bias: float = -10.0,
        **towers: Any,
    ) -> None:
        super().__init__(encoder, text_encoder, **towers)
        self.siglip = SigmoidPairsLoss(
            init_scale=init_scale, init_bias=init_bias, gather=self.gather
        )

    def logit_scale(self) -> float:
        return math.exp(float(self.siglip.log_scale.detach()))

    def logit_bias(self) -> float | None:
        return float(self.siglip.bias.detach())

    def pair_loss(self, x_emb: Tensor, t_emb: Tensor, ids: Tensor | None = None) -> Tensor:
        """The sigmoid loss on unit-norm embeddings of N pairs; pairs of equal `ids` are
        positives. Shape: (N, E), (N, E), (N,)."""
        return self.siglip(x_emb, t_emb, ids=ids)


def build_siglip(options: SigLIPConfig, encoder: nn.Module, ctx: MethodContext) -> SigLIP:
    """SigLIP: `encoder` + a text tower (as CLIP's); the bias starts at -ln(batch size)
    unless `init_bias` is set."""
    bias = -math.log(ctx.batch_size) if options.init_bias is None else options.init_bias
    return build_towers(
        SigLIP, encoder, options, ctx, init_scale=options.init_scale, init_bias=bias
    )
