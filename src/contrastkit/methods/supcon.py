"""Supervised contrastive learning (Khosla et al. 2020, arXiv:2004.11362): every view of a
sample with the same label is a positive (SupCon L_out)."""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor, nn

from contrastkit.config import Config, SupConConfig, method_section
from contrastkit.heads.projection import ProjectionHead
from contrastkit.losses import supcon
from contrastkit.methods.multicrop import two_views
from contrastkit.train.loop import Augment


class SupCon(nn.Module):
    """Encoder + projection head trained with SupCon on two views per labelled image.

    The batch is `(images, labels)`: `needs_labels` tells `train_run` to pass the labels.

    Args:
        encoder: (B, C, H, W) -> (B, D).
        head: (B, D) -> (B, P).
        temperature: > 0 (paper: 0.1).
    """

    needs_labels: ClassVar[bool] = True

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
        self,
        batch: tuple[Tensor, ...],
        *,
        augment: Augment,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """SupCon of one batch: images Shape (B, C, H, W) and labels Shape (B,)."""
        if not isinstance(batch, tuple) or len(batch) != 2:
            raise ValueError("SupCon needs batches of (images, labels)")
        images, labels = batch
        views = torch.cat(two_views(images, augment, generator))  # (2B, ...)
        z_a, z_b = self.head(self.encoder(views)).chunk(2)  # (B, P) each
        z = torch.stack([z_a, z_b], dim=1)  # (B, 2, P)
        return supcon(z, labels, temperature=self.temperature, gather=True)

    def after_step(self, progress: float) -> None:
        """SupCon keeps no state between steps."""


def build_supcon(cfg: Config, encoder: nn.Module) -> SupCon:
    """SupCon with the 2-layer projection head."""
    section = method_section(cfg, SupConConfig)
    head = ProjectionHead(cfg.model.feature_dim, cfg.model.proj_hidden_dim, cfg.model.proj_dim)
    return SupCon(encoder, head, temperature=section.temperature)
