"""NNCLR (Dwibedi et al. 2021, arXiv:2104.14548): the positive of a view is its nearest
neighbour in a support set of past projections, not the other view itself."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from contrastkit.config import Config, NNCLRConfig, method_section
from contrastkit.heads.projection import ProjectionHead
from contrastkit.losses import info_nce
from contrastkit.methods.multicrop import two_views
from contrastkit.methods.queue import FeatureQueue, nearest_neighbours
from contrastkit.train.loop import Augment


class NNCLR(nn.Module):
    """L = (InfoNCE(NN(z_1), p_2) + InfoNCE(NN(z_2), p_1)) / 2, NN(z) the most similar row
    of the support set (no gradient), p = predictor(z); the other predictions of the batch
    (all ranks) are the negatives. Until the support set has rows, NN(z) = z.

    Args:
        encoder: (B, C, H, W) -> (B, D).
        projector: (B, D) -> (B, P).
        predictor: (B, P) -> (B, P).
        temperature: > 0 (paper: 0.1).
        support_size: Rows of the support set (paper: 98304).
    """

    support: FeatureQueue

    def __init__(
        self,
        encoder: nn.Module,
        projector: nn.Module,
        predictor: nn.Module,
        *,
        proj_dim: int,
        temperature: float,
        support_size: int,
    ) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        self.encoder = encoder
        self.projector = projector
        self.predictor = predictor
        self.support = FeatureQueue(size=support_size, dim=proj_dim)
        self.temperature = temperature
        self._pending: Tensor | None = None

    def _neighbour(self, z: Tensor) -> Tensor:
        if int(self.support.filled) == 0:
            return z.detach()
        return nearest_neighbours(z, self.support.features())

    def projection(self, images: Tensor) -> Tensor:
        """The embedding the loss compares (the health monitor's collapse check).
        Shape: (B, C, H, W) float -> (B, P)."""
        out: Tensor = self.projector(self.encoder(images))
        return out

    def training_loss(
        self, images: Tensor, *, augment: Augment, generator: torch.Generator | None = None
    ) -> Tensor:
        """NNCLR loss of one batch. images: Shape: (B, C, H, W)."""
        views = torch.cat(two_views(images, augment, generator))  # (2B, ...)
        z = self.projector(self.encoder(views))  # (2B, P)
        p_1, p_2 = self.predictor(z).chunk(2)  # (B, P) each
        z_1, z_2 = z.chunk(2)
        t = self.temperature
        loss = info_nce(self._neighbour(z_1), p_2, t, gather=True) + info_nce(
            self._neighbour(z_2), p_1, t, gather=True
        )
        self._pending = z_1.detach()
        return 0.5 * loss

    def after_step(self, progress: float) -> None:
        """Add this step's view-1 projections to the support set."""
        if self._pending is not None:
            self.support.push(self._pending)
            self._pending = None


def build_nnclr(cfg: Config, encoder: nn.Module) -> NNCLR:
    """NNCLR with a 2-layer projector and predictor."""
    section = method_section(cfg, NNCLRConfig)
    m = cfg.model
    return NNCLR(
        encoder,
        ProjectionHead(m.feature_dim, m.proj_hidden_dim, m.proj_dim),
        ProjectionHead(m.proj_dim, section.pred_hidden_dim, m.proj_dim),
        proj_dim=m.proj_dim,
        temperature=section.temperature,
        support_size=section.support_size,
    )
