"""Build the encoder a config names."""

from __future__ import annotations

from torch import nn

from contrastkit.encoders.audio import AudioCNN
from contrastkit.encoders.mlp import TabularMLP
from contrastkit.encoders.options import ModelConfig
from contrastkit.encoders.small_cnn import SmallCNN


def build_encoder(cfg: ModelConfig, in_channels: int) -> nn.Module:
    if cfg.encoder == "audio_cnn":
        return AudioCNN(width=cfg.width, feature_dim=cfg.feature_dim)
    return SmallCNN(in_channels=in_channels, width=cfg.width, feature_dim=cfg.feature_dim)


def build_table_encoder(
    cfg: ModelConfig, *, num_numeric: int, cardinalities: list[int]
) -> TabularMLP:
    """The MLP encoder for a table with `num_numeric` numeric and these categorical columns."""
    return TabularMLP(
        num_numeric=num_numeric,
        cardinalities=cardinalities,
        width=cfg.width,
        depth=cfg.depth,
        cat_embed_dim=cfg.cat_embed_dim,
        feature_dim=cfg.feature_dim,
    )
