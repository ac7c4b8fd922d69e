"""Build the encoder a config names."""

from __future__ import annotations

from torch import nn

from contrastkit.config import ModelConfig
from contrastkit.encoders.audio import AudioCNN
from contrastkit.encoders.small_cnn import SmallCNN


def build_encoder(cfg: ModelConfig, in_channels: int) -> nn.Module:
    if cfg.encoder == "audio_cnn":
        return AudioCNN(width=cfg.width, feature_dim=cfg.feature_dim)
    return SmallCNN(in_channels=in_channels, width=cfg.width, feature_dim=cfg.feature_dim)
