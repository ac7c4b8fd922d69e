"""Options of the encoders a config can name."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from contrastkit.options import Strict


class ModelConfig(Strict):
    """Encoder and projection head sizes."""

    encoder: Literal["small_cnn", "audio_cnn", "mlp"] = "small_cnn"
    width: int = Field(32, ge=4)
    """small_cnn: channels of the first block; mlp: width of every hidden layer."""
    depth: int = Field(3, ge=1)
    """mlp: number of hidden Linear-BatchNorm-ReLU layers."""
    cat_embed_dim: int = Field(8, ge=1)
    """mlp: embedding size of each categorical column."""
    feature_dim: int = Field(128, ge=2)
    proj_hidden_dim: int = Field(256, ge=2)
    proj_dim: int = Field(64, ge=2)
