"""SimCLR (Chen et al. 2020, arXiv:2002.05709): two random views, NT-Xent on projections."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from contrastkit.config import Config, SimCLRConfig, method_section
from contrastkit.heads.projection import ProjectionHead
from contrastkit.losses import nt_xent
from contrastkit.methods.multicrop import two_views
from contrastkit.train.loop import Augment


class SimCLR(nn.Module):
    """Encoder + projection head trained with NT-Xent between two views of each image.

    Under torch.distributed the negatives are the projections of all ranks (`gather=True`).

    Args:
        encoder: (B, C, H, W) -> (B, D); what downstream tasks use.
        head: (B, D) -> (B, P); the loss sees its output.
        temperature: NT-Xent temperature (> 0).
    """

    def __init__(self, encoder: nn.Module, head: nn.Module, *, temperature: float) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        self.encoder = encoder
        self.head = head
        self.temperature = temperature

    def projection(self, images: Tensor) -> Tensor:
        """The embedding the loss compares (the health monitor's collapse check).
        Shape: (B, C, H, W) float -> (B, P)."""
        out: Tensor = self.head(self.encoder(images))
        return out

    def training_loss(
        self, images: Tensor, *, augment: Augment, generator: torch.Generator | None = None
    ) -> Tensor:
        """NT-Xent of one batch. images: Shape: (B, C, H, W), uint8 or float."""
        views = torch.cat(two_views(images, augment, generator))  # (2B, ...)
        z = self.head(self.encoder(views))  # (2B, P): both views share BatchNorm statistics
        z_a, z_b = z.chunk(2)
        return nt_xent(z_a, z_b, temperature=self.temperature, gather=True)

    def after_step(self, progress: float) -> None:
        """SimCLR keeps no state between steps (no EMA, no queue)."""


def build_simclr(cfg: Config, encoder: nn.Module) -> SimCLR:
    """SimCLR from the config: the paper's 2-layer projection head on `encoder`."""
    section = method_section(cfg, SimCLRConfig)
    head = ProjectionHead(cfg.model.feature_dim, cfg.model.proj_hidden_dim, cfg.model.proj_dim)
    return SimCLR(encoder, head, temperature=section.temperature)
