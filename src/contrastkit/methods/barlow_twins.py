"""Barlow Twins (Zbontar et al. 2021, arXiv:2103.03230): make the cross-correlation of the
two views' projections the identity matrix."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from contrastkit.config import BarlowTwinsConfig, Config, method_section
from contrastkit.heads.projection import ProjectionHead
from contrastkit.losses import barlow_twins
from contrastkit.methods.multicrop import two_views
from contrastkit.train.loop import Augment


class BarlowTwins(nn.Module):
    """Encoder + wide projector trained with the Barlow Twins loss.

    Args:
        encoder: (B, C, H, W) -> (B, D).
        projector: (B, D) -> (B, P); the paper's is 3 layers, 8192 wide.
        lambda_offdiag: Weight of the redundancy-reduction term (paper: 5e-3).
    """

    def __init__(self, encoder: nn.Module, projector: nn.Module, *, lambda_offdiag: float) -> None:
        super().__init__()
        if lambda_offdiag <= 0:
            raise ValueError(f"lambda_offdiag must be > 0, got {lambda_offdiag}")
        self.encoder = encoder
        self.projector = projector
        self.lambda_offdiag = lambda_offdiag

    def projection(self, images: Tensor) -> Tensor:
        """The embedding the loss compares (the health monitor's collapse check).
        Shape: (B, C, H, W) float -> (B, P)."""
        out: Tensor = self.projector(self.encoder(images))
        return out

    def training_loss(
        self, images: Tensor, *, augment: Augment, generator: torch.Generator | None = None
    ) -> Tensor:
        """Barlow Twins loss of one batch. images: Shape: (B, C, H, W)."""
        views = torch.cat(two_views(images, augment, generator))  # (2B, ...)
        z_a, z_b = self.projector(self.encoder(views)).chunk(2)  # (B, P) each
        return barlow_twins(z_a, z_b, lambda_offdiag=self.lambda_offdiag, gather=True)

    def after_step(self, progress: float) -> None:
        """Barlow Twins keeps no state between steps."""


def build_barlow_twins(cfg: Config, encoder: nn.Module) -> BarlowTwins:
    """Barlow Twins with a 3-layer projector of width `model.proj_hidden_dim`."""
    section = method_section(cfg, BarlowTwinsConfig)
    width = cfg.model.proj_hidden_dim
    projector = ProjectionHead(cfg.model.feature_dim, width, width, num_layers=3)
    return BarlowTwins(encoder, projector, lambda_offdiag=section.lambda_offdiag)
