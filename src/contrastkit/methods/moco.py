"""MoCo: an EMA key encoder supplies the positives.

v2 (Chen et al. 2020, arXiv:2003.04297): negatives from a queue of past keys.
v3 (Chen, Xie & He 2021, arXiv:2104.02057): in-batch negatives, a predictor on the query
branch, momentum rising to 1 on a cosine schedule, loss scaled by 2 * temperature.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import torch
from pydantic import Field
from torch import Tensor, nn

from contrastkit.batches import ImageBatch
from contrastkit.losses import InfoNCELoss
from contrastkit.methods.base import (
    MethodContext,
    MethodOptions,
    MomentumMethod,
    PredictorMomentumMethod,
)
from contrastkit.methods.projectors import predictor, projection_head
from contrastkit.methods.queue import FeatureQueue
from contrastkit.methods.views import halves, stacked_views


class MoCoV2Config(MethodOptions):
    """MoCo v2 (arXiv:2003.04297): EMA key encoder and a queue of negatives.

    Paper: temperature 0.2, momentum 0.999, queue 65536. Digits (1,257 training images,
    ~5 steps per epoch): queue 1024 and momentum 0.99, so the keys are not stale.
    """

    name: Literal["moco_v2"] = "moco_v2"
    temperature: float = Field(0.2, gt=0.0)
    queue_size: int = Field(1024, ge=1, le=2**24)
    momentum: float = Field(0.99, ge=0.0, le=1.0)


class MoCoV3Config(MethodOptions):
    """MoCo v3 (arXiv:2104.02057): EMA key encoder, predictor, in-batch negatives.

    Paper (ResNet-50): temperature 1.0, momentum 0.99 -> 1 (cosine), predictor hidden 4096;
    the loss is scaled by 2 * temperature as in the authors' code.
    """

    name: Literal["moco_v3"] = "moco_v3"
    temperature: float = Field(1.0, gt=0.0)
    momentum: float = Field(0.99, ge=0.0, le=1.0)
    pred_hidden_dim: int = Field(256, ge=2, le=65536)


class MoCoV2(MomentumMethod):
    """Query encoder + head; EMA key encoder + head (the target); a queue of keys as extra
    negatives.

    L = (InfoNCE(q_1, k_2; queue) + InfoNCE(q_2, k_1; queue)) / 2 (symmetrised); the keys
    of view 2 enter the queue after the step. The in-batch keys (all ranks) are negatives
    too. Shuffled BatchNorm is not implemented (use `train.sync_batchnorm` with DDP).

    Args:
        encoder: (B, C, H, W) -> (B, D).
        head: (B, D) -> (B, P).
        temperature: > 0 (paper: 0.2).
        queue_size: Keys kept as negatives (paper: 65536).
        momentum: Key-encoder momentum, constant (paper: 0.999).
    """

    earlier_names: ClassVar = {"key.": "target."}
    queue: FeatureQueue

    def __init__(
        self,
        encoder: nn.Module,
        head: nn.Module,
        *,
        proj_dim: int,
        temperature: float,
        queue_size: int,
        momentum: float,
    ) -> None:
        super().__init__(encoder, head, momentum=momentum)
        self.loss = InfoNCELoss(temperature=temperature, gather=True)
        self.queue = FeatureQueue(size=queue_size, dim=proj_dim)
        self._pending: Tensor | None = None

    def training_loss(
        self, batch: ImageBatch, *, augment: Any, generator: torch.Generator | None = None
    ) -> Tensor:
        """MoCo v2 loss of one batch. batch.images: Shape: (B, C, H, W)."""
        views = stacked_views(batch.images, augment, generator)  # (2B, ...)
        q_1, q_2 = halves(self.projection(views))  # (B, P) each
        k_1, k_2 = halves(self.target(views))  # (B, P) each, no gradient
        negatives = self.queue.features() if int(self.queue.filled) > 0 else None
        loss = self.loss(q_1, k_2, negatives) + self.loss(q_2, k_1, negatives)
        self._pending = k_2
        return 0.5 * loss

    def target_momentum(self, progress: float) -> float:
        """MoCo v2 keeps its momentum constant."""
        return self.momentum

    def after_step(self, progress: float) -> None:
        """EMA update of the key encoder, then enqueue this step's keys."""
        super().after_step(progress)
        if self._pending is not None:
            self.queue.push(self._pending)
            self._pending = None


class MoCoV3(PredictorMomentumMethod):
    """Query: encoder, projector, predictor; key: EMA of encoder and projector (the target).

    L = 2 tau (InfoNCE(q_1, k_2) + InfoNCE(q_2, k_1)), in-batch negatives (all ranks).

    Args:
        encoder: (B, C, H, W) -> (B, D).
        head: The projector, (B, D) -> (B, P).
        predictor: (B, P) -> (B, P).
        temperature: > 0 (paper: 1.0 for ResNets, 0.2 for ViTs).
        momentum: Base key momentum, cosine to 1 (paper: 0.99).
    """

    earlier_names: ClassVar = {"projector.": "head.", "key.": "target."}

    def __init__(
        self,
        encoder: nn.Module,
        head: nn.Module,
        predictor: nn.Module,
        *,
        temperature: float,
        momentum: float,
    ) -> None:
        super().__init__(encoder, head, predictor, momentum=momentum)
        self.loss = InfoNCELoss(temperature=temperature, gather=True)
        self.temperature = temperature

    def training_loss(
        self, batch: ImageBatch, *, augment: Any, generator: torch.Generator | None = None
    ) -> Tensor:
        """MoCo v3 loss of one batch. batch.images: Shape: (B, C, H, W)."""
        pair_sum = self.cross_view_loss(batch, augment=augment, generator=generator, loss=self.loss)
        return 2.0 * self.temperature * pair_sum


def build_moco_v2(options: MoCoV2Config, encoder: nn.Module, ctx: MethodContext) -> MoCoV2:
    """MoCo v2 with the 2-layer projection head."""
    return MoCoV2(
        encoder,
        projection_head(ctx.model),
        proj_dim=ctx.model.proj_dim,
        temperature=options.temperature,
        queue_size=options.queue_size,
        momentum=options.momentum,
    )


def build_moco_v3(options: MoCoV3Config, encoder: nn.Module, ctx: MethodContext) -> MoCoV3:
    """MoCo v3 with a 2-layer projector and predictor."""
    return MoCoV3(
        encoder,
        projection_head(ctx.model),
        predictor(ctx.model, options.pred_hidden_dim),
        temperature=options.temperature,
        momentum=options.momentum,
    )
