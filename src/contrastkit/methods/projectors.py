"""The heads the recipes share, sized from the model section (`ModelConfig`)."""

from __future__ import annotations

from contrastkit.encoders.options import ModelConfig
from contrastkit.heads.projection import ProjectionHead


def projection_head(model: ModelConfig) -> ProjectionHead:
    """SimCLR's 2-layer head: feature_dim -> proj_hidden_dim -> proj_dim."""
    return ProjectionHead(model.feature_dim, model.proj_hidden_dim, model.proj_dim)


def wide_projector(model: ModelConfig) -> ProjectionHead:
    """Barlow Twins' and VICReg's 3-layer projector, `proj_hidden_dim` wide throughout."""
    width = model.proj_hidden_dim
    return ProjectionHead(model.feature_dim, width, width, num_layers=3)


def predictor(model: ModelConfig, hidden_dim: int) -> ProjectionHead:
    """The 2-layer predictor of BYOL, SimSiam, MoCo v3, NNCLR: proj_dim -> hidden -> proj_dim."""
    return ProjectionHead(model.proj_dim, hidden_dim, model.proj_dim)
