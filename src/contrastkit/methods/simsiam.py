"""SimSiam (Chen & He 2021, arXiv:2011.10566): a predictor and a stop-gradient on the
target branch are enough to avoid collapse, without negatives or an EMA."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from contrastkit.config import Config, SimSiamConfig, method_section
from contrastkit.heads.projection import ProjectionHead
from contrastkit.losses import negative_cosine
from contrastkit.methods.multicrop import two_views
from contrastkit.train.loop import Augment


class SimSiam(nn.Module):
    """L = D(p_1, sg(z_2)) / 2 + D(p_2, sg(z_1)) / 2, D the negative cosine similarity.

    Args:
        encoder: (B, C, H, W) -> (B, D).
        projector: (B, D) -> (B, P).
        predictor: (B, P) -> (B, P), a bottleneck MLP (paper hidden = P / 4).
        stop_gradient: False removes sg (the paper's ablation: the run collapses).
    """

    def __init__(
        self,
        encoder: nn.Module,
        projector: nn.Module,
        predictor: nn.Module,
        *,
        stop_gradient: bool = True,
    ) -> None:
        super().__init__()
        self.encoder = encoder
        self.projector = projector
        self.predictor = predictor
        self.stop_gradient = stop_gradient

    def projection(self, images: Tensor) -> Tensor:
        """The embedding the loss compares (the health monitor's collapse check).
        Shape: (B, C, H, W) float -> (B, P)."""
        out: Tensor = self.projector(self.encoder(images))
        return out

    def training_loss(
        self, images: Tensor, *, augment: Augment, generator: torch.Generator | None = None
    ) -> Tensor:
        """Symmetrised SimSiam loss of one batch. images: Shape: (B, C, H, W)."""
        views = torch.cat(two_views(images, augment, generator))  # (2B, ...)
        z = self.projector(self.encoder(views))  # (2B, P)
        p_1, p_2 = self.predictor(z).chunk(2)  # (B, P) each
        target = z.detach() if self.stop_gradient else z
        z_1, z_2 = target.chunk(2)
        return 0.5 * (negative_cosine(p_1, z_2) + negative_cosine(p_2, z_1))

    def after_step(self, progress: float) -> None:
        """SimSiam keeps no state between steps."""


def build_simsiam(cfg: Config, encoder: nn.Module) -> SimSiam:
    """SimSiam with its projector (`projector_layers`, optional output BatchNorm) and a
    bottleneck predictor."""
    section = method_section(cfg, SimSiamConfig)
    m = cfg.model
    projector = ProjectionHead(
        m.feature_dim,
        m.proj_hidden_dim,
        m.proj_dim,
        num_layers=section.projector_layers,
        output_bn=section.projector_output_bn,
    )
    predictor = ProjectionHead(m.proj_dim, section.pred_hidden_dim, m.proj_dim)
    return SimSiam(encoder, projector, predictor, stop_gradient=section.stop_gradient)
