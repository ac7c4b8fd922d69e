"""BYOL (Grill et al. 2020, arXiv:2006.07733): an online network with a predictor regresses
the projection of an EMA target network; the target's momentum follows a cosine schedule."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from contrastkit.config import BYOLConfig, Config, method_section
from contrastkit.heads.projection import ProjectionHead
from contrastkit.losses import byol
from contrastkit.methods.ema import EMATeacher, cosine_momentum
from contrastkit.methods.multicrop import two_views
from contrastkit.train.loop import Augment


class BYOL(nn.Module):
    """Online (encoder, projector, predictor) and an EMA target (encoder, projector).

    L = byol(q_1, z'_2) + byol(q_2, z'_1), byol(q, z) = 2 - 2 cos(q, z); the target z'
    has no gradient. After each step the target moves by 1 - tau(p),
    tau(p) = 1 - (1 - momentum) (cos(pi p) + 1) / 2.

    Args:
        encoder: (B, C, H, W) -> (B, D).
        projector: (B, D) -> (B, P).
        predictor: (B, P) -> (B, P).
        momentum: Base target momentum tau_base (paper: 0.996).
    """

    def __init__(
        self, encoder: nn.Module, projector: nn.Module, predictor: nn.Module, *, momentum: float
    ) -> None:
        super().__init__()
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"momentum must be in [0, 1], got {momentum}")
        self.encoder = encoder
        self.projector = projector
        self.predictor = predictor
        self.target = EMATeacher(nn.Sequential(encoder, projector))
        self.momentum = momentum

    def projection(self, images: Tensor) -> Tensor:
        """The embedding the loss compares (the health monitor's collapse check).
        Shape: (B, C, H, W) float -> (B, P)."""
        out: Tensor = self.projector(self.encoder(images))
        return out

    def training_loss(
        self, images: Tensor, *, augment: Augment, generator: torch.Generator | None = None
    ) -> Tensor:
        """Symmetrised BYOL loss of one batch. images: Shape: (B, C, H, W)."""
        views = torch.cat(two_views(images, augment, generator))  # (2B, ...)
        q_1, q_2 = self.predictor(self.projector(self.encoder(views))).chunk(2)  # (B, P) each
        z_1, z_2 = self.target(views).chunk(2)  # (B, P) each, no gradient
        return byol(q_1, z_2) + byol(q_2, z_1)

    def after_step(self, progress: float) -> None:
        """Move the target towards the online network (cosine momentum schedule)."""
        tau = cosine_momentum(progress, base=self.momentum)
        self.target.update(nn.Sequential(self.encoder, self.projector), tau)


def build_byol(cfg: Config, encoder: nn.Module) -> BYOL:
    """BYOL with 2-layer projector and predictor (hidden `method.pred_hidden_dim`)."""
    section = method_section(cfg, BYOLConfig)
    m = cfg.model
    projector = ProjectionHead(m.feature_dim, m.proj_hidden_dim, m.proj_dim)
    predictor = ProjectionHead(m.proj_dim, section.pred_hidden_dim, m.proj_dim)
    return BYOL(encoder, projector, predictor, momentum=section.momentum)
