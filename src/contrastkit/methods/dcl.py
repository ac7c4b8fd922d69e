"""DCL / DCLW (Yeh et al. 2022, arXiv:2110.06848): SimCLR with the positive removed from
the denominator (decoupled), optionally with von Mises-Fisher weighted positives."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from contrastkit.config import Config, DCLConfig, method_section
from contrastkit.heads.projection import ProjectionHead
from contrastkit.losses import dcl
from contrastkit.methods.multicrop import two_views
from contrastkit.train.loop import Augment


class DCL(nn.Module):
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
        super().__init__()
        if temperature <= 0 or (sigma is not None and sigma <= 0):
            raise ValueError(f"temperature and sigma must be > 0, got {temperature}, {sigma}")
        self.encoder = encoder
        self.head = head
        self.temperature = temperature
        self.sigma = sigma

    def projection(self, images: Tensor) -> Tensor:
        """The embedding the loss compares (the health monitor's collapse check).
        Shape: (B, C, H, W) float -> (B, P)."""
        out: Tensor = self.head(self.encoder(images))
        return out

    def training_loss(
        self, images: Tensor, *, augment: Augment, generator: torch.Generator | None = None
    ) -> Tensor:
        """DCL of one batch. images: Shape: (B, C, H, W)."""
        views = torch.cat(two_views(images, augment, generator))  # (2B, ...)
        z_a, z_b = self.head(self.encoder(views)).chunk(2)  # (B, P) each
        return dcl(z_a, z_b, temperature=self.temperature, sigma=self.sigma, gather=True)

    def after_step(self, progress: float) -> None:
        """DCL keeps no state between steps."""


def build_dcl(cfg: Config, encoder: nn.Module) -> DCL:
    """DCL (or DCLW when `method.sigma` is set) with the 2-layer projection head."""
    section = method_section(cfg, DCLConfig)
    head = ProjectionHead(cfg.model.feature_dim, cfg.model.proj_hidden_dim, cfg.model.proj_dim)
    return DCL(encoder, head, temperature=section.temperature, sigma=section.sigma)
