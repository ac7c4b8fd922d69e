"""SwAV (Caron et al. 2020, arXiv:2006.09882): swap the prediction of online cluster codes
between views; codes come from Sinkhorn-Knopp over learnable prototypes; multi-crop."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import Tensor, nn

from contrastkit.batches import ImageBatch
from contrastkit.losses import SwAVLoss
from contrastkit.methods.base import Method, MethodContext, MethodOptions
from contrastkit.methods.multicrop import LocalCrops, encode_crops, multi_crop
from contrastkit.methods.projectors import projection_head


class SwAVConfig(MethodOptions):
    """SwAV (arXiv:2006.09882): online codes by Sinkhorn-Knopp over prototypes, multi-crop.

    Paper: 3000 prototypes, temperature 0.1, epsilon 0.05, 3 Sinkhorn iterations, 2 x 224
    + 6 x 96 crops, prototypes frozen during the first epoch. Digits: 30 prototypes,
    2 x 8 + 4 x 4 crops (the paper's size ratio), frozen for 1 epoch; no queue.
    """

    name: Literal["swav"] = "swav"
    num_prototypes: int = Field(30, ge=2, le=2**20)
    temperature: float = Field(0.1, gt=0.0)
    epsilon: float = Field(0.05, gt=0.0)
    sinkhorn_iterations: int = Field(3, ge=1)
    freeze_prototypes_epochs: int = Field(1, ge=0)
    local_crops: int = Field(4, ge=0, le=64)
    local_size: int = Field(4, ge=2, le=4096)
    local_scale: tuple[float, float] = (0.2, 0.5)


class SwAV(Method[ImageBatch]):
    """Encoder + projector, K prototypes (unit vectors, renormalised before every step).

    scores[v, n, k] = <z_vn / |z_vn|, c_k>; the codes of the two global crops (Sinkhorn,
    no gradient) are predicted from the scores of every other crop (`losses.swav`). The
    prototypes get no gradient during the first `freeze_prototypes_fraction` of training.

    Args:
        encoder: (B, C, H, W) -> (B, D).
        head: The projector, (B, D) -> (B, P).
        num_prototypes: K (paper: 3000).
        temperature, epsilon, sinkhorn_iterations: Loss hyperparameters (0.1, 0.05, 3).
        freeze_prototypes_fraction: Fraction of training with frozen prototypes.
        local_crops, local_size, local_scale: Multi-crop settings.
    """

    earlier_names: ClassVar = {"projector.": "head."}
    progress: Tensor

    def __init__(
        self,
        encoder: nn.Module,
        head: nn.Module,
        *,
        proj_dim: int,
        num_prototypes: int,
        temperature: float,
        epsilon: float,
        sinkhorn_iterations: int,
        freeze_prototypes_fraction: float,
        local_crops: int,
        local_size: int,
        local_scale: tuple[float, float],
    ) -> None:
        super().__init__(encoder, head)
        if num_prototypes < 2:
            raise ValueError(f"num_prototypes must be >= 2, got {num_prototypes}")
        self.prototypes = nn.Linear(proj_dim, num_prototypes, bias=False)
        self.loss = SwAVLoss(
            temperature=temperature,
            epsilon=epsilon,
            sinkhorn_iterations=sinkhorn_iterations,
            assign_views=(0, 1),
            gather=True,
        )
        self.freeze_prototypes_fraction = freeze_prototypes_fraction
        self.local = LocalCrops(local_crops, local_size, local_scale)
        self.register_buffer("progress", torch.zeros(()))

    def training_loss(
        self, batch: ImageBatch, *, augment: Any, generator: torch.Generator | None = None
    ) -> Tensor:
        """SwAV loss of one batch. batch.images: Shape: (B, C, H, W)."""
        with torch.no_grad():
            self.prototypes.weight.copy_(F.normalize(self.prototypes.weight, dim=1))
        crops = multi_crop(batch.images, augment, self.local, generator)
        z = F.normalize(encode_crops(self.projection, crops), dim=2)
        weight = self.prototypes.weight  # (K, P)
        if float(self.progress) < self.freeze_prototypes_fraction:
            weight = weight * 0.0 + weight.detach()  # used, but receives a zero gradient
        scores = torch.einsum("vnp,kp->vnk", z, weight)  # (V, B, K)
        return self.loss(scores)

    def after_step(self, progress: float) -> None:
        """Record training progress (it decides when the prototypes unfreeze)."""
        self.progress.fill_(progress)


def build_swav(options: SwAVConfig, encoder: nn.Module, ctx: MethodContext) -> SwAV:
    """SwAV with the 2-layer projector; prototypes frozen for `freeze_prototypes_epochs`."""
    return SwAV(
        encoder,
        projection_head(ctx.model),
        proj_dim=ctx.model.proj_dim,
        num_prototypes=options.num_prototypes,
        temperature=options.temperature,
        epsilon=options.epsilon,
        sinkhorn_iterations=options.sinkhorn_iterations,
        freeze_prototypes_fraction=options.freeze_prototypes_epochs / ctx.epochs,
        local_crops=options.local_crops,
        local_size=options.local_size,
        local_scale=options.local_scale,
    )
