"""MoCo: an EMA key encoder supplies the positives.

v2 (Chen et al. 2020, arXiv:2003.04297): negatives from a queue of past keys.
v3 (Chen, Xie & He 2021, arXiv:2104.02057): in-batch negatives, a predictor on the query
branch, momentum rising to 1 on a cosine schedule, loss scaled by 2 * temperature.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from contrastkit.config import Config, MoCoV2Config, MoCoV3Config, method_section
from contrastkit.heads.projection import ProjectionHead
from contrastkit.losses import info_nce
from contrastkit.methods.ema import EMATeacher, cosine_momentum
from contrastkit.methods.multicrop import two_views
from contrastkit.methods.queue import FeatureQueue
from contrastkit.train.loop import Augment


class MoCoV2(nn.Module):
    """Query encoder + head; EMA key encoder + head; a queue of keys as extra negatives.

    L = (InfoNCE(q_1, k_2; queue) + InfoNCE(q_2, k_1; queue)) / 2 (symmetrised); the keys
    of view 2 enter the queue after the step. The in-batch keys (all ranks) are negatives
    too. Shuffled BatchNorm is not implemented (use `train.sync_batchnorm` with DDP).

    Args:
        encoder: (B, C, H, W) -> (B, D).
        head: (B, D) -> (B, P).
        temperature: > 0 (paper: 0.2).
        queue_size: Keys kept as negatives (paper: 65536).
        momentum: Key-encoder momentum (paper: 0.999).
    """

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
        super().__init__()
        if temperature <= 0 or not 0.0 <= momentum <= 1.0:
            raise ValueError(f"need temperature > 0, 0 <= momentum <= 1: {temperature}, {momentum}")
        self.encoder = encoder
        self.head = head
        self.key = EMATeacher(nn.Sequential(encoder, head))
        self.queue = FeatureQueue(size=queue_size, dim=proj_dim)
        self.temperature = temperature
        self.momentum = momentum
        self._pending: Tensor | None = None

    def projection(self, images: Tensor) -> Tensor:
        """The embedding the loss compares (the health monitor's collapse check).
        Shape: (B, C, H, W) float -> (B, P)."""
        out: Tensor = self.head(self.encoder(images))
        return out

    def training_loss(
        self, images: Tensor, *, augment: Augment, generator: torch.Generator | None = None
    ) -> Tensor:
        """MoCo v2 loss of one batch. images: Shape: (B, C, H, W)."""
        views = torch.cat(two_views(images, augment, generator))  # (2B, ...)
        q_1, q_2 = self.head(self.encoder(views)).chunk(2)  # (B, P) each
        k_1, k_2 = self.key(views).chunk(2)  # (B, P) each, no gradient
        negatives = self.queue.features() if int(self.queue.filled) > 0 else None
        t = self.temperature
        loss = info_nce(q_1, k_2, t, negatives, gather=True) + info_nce(
            q_2, k_1, t, negatives, gather=True
        )
        self._pending = k_2
        return 0.5 * loss

    def after_step(self, progress: float) -> None:
        """EMA update of the key encoder, then enqueue this step's keys."""
        self.key.update(nn.Sequential(self.encoder, self.head), self.momentum)
        if self._pending is not None:
            self.queue.push(self._pending)
            self._pending = None


class MoCoV3(nn.Module):
    """Query: encoder, projector, predictor; key: EMA of encoder and projector.

    L = 2 tau (InfoNCE(q_1, k_2) + InfoNCE(q_2, k_1)), in-batch negatives (all ranks).

    Args:
        encoder: (B, C, H, W) -> (B, D).
        projector: (B, D) -> (B, P).
        predictor: (B, P) -> (B, P).
        temperature: > 0 (paper: 1.0 for ResNets, 0.2 for ViTs).
        momentum: Base key momentum, cosine to 1 (paper: 0.99).
    """

    def __init__(
        self,
        encoder: nn.Module,
        projector: nn.Module,
        predictor: nn.Module,
        *,
        temperature: float,
        momentum: float,
    ) -> None:
        super().__init__()
        if temperature <= 0 or not 0.0 <= momentum <= 1.0:
            raise ValueError(f"need temperature > 0, 0 <= momentum <= 1: {temperature}, {momentum}")
        self.encoder = encoder
        self.projector = projector
        self.predictor = predictor
        self.key = EMATeacher(nn.Sequential(encoder, projector))
        self.temperature = temperature
        self.momentum = momentum

    def projection(self, images: Tensor) -> Tensor:
        """The embedding the loss compares (the health monitor's collapse check).
        Shape: (B, C, H, W) float -> (B, P)."""
        out: Tensor = self.projector(self.encoder(images))
        return out

    def training_loss(
        self, images: Tensor, *, augment: Augment, generator: torch.Generator | None = None
    ) -> Tensor:
        """MoCo v3 loss of one batch. images: Shape: (B, C, H, W)."""
        views = torch.cat(two_views(images, augment, generator))  # (2B, ...)
        q_1, q_2 = self.predictor(self.projector(self.encoder(views))).chunk(2)  # (B, P) each
        k_1, k_2 = self.key(views).chunk(2)  # (B, P) each, no gradient
        t = self.temperature
        loss = info_nce(q_1, k_2, t, gather=True) + info_nce(q_2, k_1, t, gather=True)
        return 2.0 * t * loss

    def after_step(self, progress: float) -> None:
        """EMA update of the key encoder with the cosine momentum schedule."""
        tau = cosine_momentum(progress, base=self.momentum)
        self.key.update(nn.Sequential(self.encoder, self.projector), tau)


def build_moco_v2(cfg: Config, encoder: nn.Module) -> MoCoV2:
    """MoCo v2 with the 2-layer projection head."""
    section = method_section(cfg, MoCoV2Config)
    m = cfg.model
    return MoCoV2(
        encoder,
        ProjectionHead(m.feature_dim, m.proj_hidden_dim, m.proj_dim),
        proj_dim=m.proj_dim,
        temperature=section.temperature,
        queue_size=section.queue_size,
        momentum=section.momentum,
    )


def build_moco_v3(cfg: Config, encoder: nn.Module) -> MoCoV3:
    """MoCo v3 with a 2-layer projector and predictor."""
    section = method_section(cfg, MoCoV3Config)
    m = cfg.model
    return MoCoV3(
        encoder,
        ProjectionHead(m.feature_dim, m.proj_hidden_dim, m.proj_dim),
        ProjectionHead(m.proj_dim, section.pred_hidden_dim, m.proj_dim),
        temperature=section.temperature,
        momentum=section.momentum,
    )
