"""CLIP (Radford et al. 2021, arXiv:2103.00020): symmetric InfoNCE over the N x N cosine
similarities of a batch of pairs, with a learned logit scale ``s = exp(t)`` (init
1 / 0.07, capped at 100)::

    L = 1/2 [ InfoNCE(s * x, y) + InfoNCE(s * y, x) ]
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Literal

import torch
from pydantic import Field
from torch import Tensor, nn

from contrastkit.encoders.hf_clip import ClipText
from contrastkit.losses import info_nce
from contrastkit.methods.base import MethodContext
from contrastkit.methods.towers import TwoTower, TwoTowerOptions, build_towers

MAX_LOGIT_SCALE = 100.0


class CLIPConfig(TwoTowerOptions):
    """CLIP (arXiv:2103.00020): symmetric InfoNCE between two towers; `init_temperature`
    is the learned temperature's start (scale = 1 / temperature, capped at 100)."""

    name: Literal["clip"] = "clip"
    init_temperature: float = Field(0.07, gt=0.0)


class CLIP(TwoTower):
    """Two towers aligned with symmetric InfoNCE and a learned logit scale.

    Args:
        encoder, text_encoder: The towers, as `TwoTower`'s.
        init_temperature: The initial temperature (scale = 1 / temperature), at least
            1 / 100.
        **towers: `TwoTower`'s other keyword arguments (tokenizer, sizes, gather).
    """

    earlier_names: ClassVar = {"siglip.": None}

    def __init__(
        self,
        encoder: nn.Module,
        text_encoder: nn.Module,
        *,
        init_temperature: float = 0.07,
        **towers: Any,
    ) -> None:
        if init_temperature <= 0 or 1.0 / init_temperature > MAX_LOGIT_SCALE:
            raise ValueError(
                f"init_temperature must be in [{1 / MAX_LOGIT_SCALE}, inf), got {init_temperature}"
            )
        super().__init__(encoder, text_encoder, **towers)
        self.log_scale = nn.Parameter(torch.tensor(math.log(1.0 / init_temperature)))

    @torch.no_grad()
    def start_from(self, clip: ClipText) -> None:
        """A pretrained CLIP's projections and logit scale (capped at 100)."""
        super().start_from(clip)
        self.log_scale.fill_(min(clip.log_scale, math.log(MAX_LOGIT_SCALE)))

    def logit_scale(self) -> float:
        return math.exp(float(self.log_scale.detach()))

    def pair_loss(self, x_emb: Tensor, t_emb: Tensor, ids: Tensor | None = None) -> Tensor:
        """Symmetric InfoNCE on unit-norm embeddings of N pairs; pairs of equal `ids` are
        positives. Shape: (N, E), (N, E), (N,)."""
        scale = self.log_scale.exp()
        # scale * cos(x, t) as a dot product: info_nce with normalize=False, temperature 1.
        x_to_t = info_nce(
            scale * x_emb, t_emb, temperature=1.0, normalize=False, ids=ids, gather=self.gather
        )
        t_to_x = info_nce(
            scale * t_emb, x_emb, temperature=1.0, normalize=False, ids=ids, gather=self.gather
        )
        return 0.5 * (x_to_t + t_to_x)

    @torch.no_grad()
    def after_step(self, progress: float) -> None:
        """Cap the learned logit scale at 100 (arXiv:2103.00020, Sec. 2.5)."""
        self.log_scale.clamp_(max=math.log(MAX_LOGIT_SCALE))


def build_clip(options: CLIPConfig, encoder: nn.Module, ctx: MethodContext) -> CLIP:
    """CLIP: `encoder` + a text tower (the small character encoder, or a Hugging Face
    CLIP's own)."""
    return build_towers(CLIP, encoder, options, ctx, init_temperature=options.init_temperature)
