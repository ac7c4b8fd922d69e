"""VICReg (Bardes et al. 2022, arXiv:2105.04906): invariance + variance + covariance terms
on the two views' expander outputs; no negatives, no teacher."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from contrastkit.config import Config, VICRegConfig, method_section
from contrastkit.heads.projection import ProjectionHead
from contrastkit.losses import vicreg
from contrastkit.methods.multicrop import two_views
from contrastkit.train.loop import Augment


class VICReg(nn.Module):
    """Encoder + expander trained with the VICReg loss.

    Args:
        encoder: (B, C, H, W) -> (B, D).
        expander: (B, D) -> (B, P); the paper's is 3 layers, 8192 wide.
        invariance_weight, variance_weight, covariance_weight: lambda, mu, nu (25, 25, 1).
    """

    def __init__(
        self,
        encoder: nn.Module,
        expander: nn.Module,
        *,
        invariance_weight: float,
        variance_weight: float,
        covariance_weight: float,
    ) -> None:
        super().__init__()
        if min(invariance_weight, variance_weight, covariance_weight) < 0:
            raise ValueError("VICReg weights must be >= 0")
        self.encoder = encoder
        self.expander = expander
        self.weights = (invariance_weight, variance_weight, covariance_weight)

    def projection(self, images: Tensor) -> Tensor:
        """The embedding the loss compares (the health monitor's collapse check).
        Shape: (B, C, H, W) float -> (B, P)."""
        out: Tensor = self.expander(self.encoder(images))
        return out

    def training_loss(
        self, images: Tensor, *, augment: Augment, generator: torch.Generator | None = None
    ) -> Tensor:
        """VICReg loss of one batch. images: Shape: (B, C, H, W)."""
        views = torch.cat(two_views(images, augment, generator))  # (2B, ...)
        z_a, z_b = self.expander(self.encoder(views)).chunk(2)  # (B, P) each
        lam, mu, nu = self.weights
        return vicreg(
            z_a,
            z_b,
            invariance_weight=lam,
            variance_weight=mu,
            covariance_weight=nu,
            gather=True,
        )

    def after_step(self, progress: float) -> None:
        """VICReg keeps no state between steps."""


def build_vicreg(cfg: Config, encoder: nn.Module) -> VICReg:
    """VICReg with a 3-layer expander of width `model.proj_hidden_dim`."""
    section = method_section(cfg, VICRegConfig)
    width = cfg.model.proj_hidden_dim
    expander = ProjectionHead(cfg.model.feature_dim, width, width, num_layers=3)
    return VICReg(
        encoder,
        expander,
        invariance_weight=section.invariance_weight,
        variance_weight=section.variance_weight,
        covariance_weight=section.covariance_weight,
    )
