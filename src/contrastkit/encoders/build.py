"""Build the encoder a config names (through `encoders.registry.ENCODERS`)."""

from __future__ import annotations

from torch import nn

from contrastkit.encoders.mlp import TabularMLP
from contrastkit.encoders.options import ModelConfig
from contrastkit.encoders.registry import ENCODERS, EncoderInput


def build_encoder(cfg: ModelConfig, in_channels: int, image_size: int | None = None) -> nn.Module:
    """The image (or log-mel) encoder `cfg.encoder` names, mapping (B, ...) ->
    (B, `encoder_feature_dim(cfg)`).

    Args:
        cfg: The model options.
        in_channels: Channels of the images (1 for log-mel spectrograms).
        image_size: Side of the training images; the ViTs need it.

    Raises:
        ValueError: `cfg.encoder` reads table rows (use `build_table_encoder`), or a ViT
            without `image_size`.
        UserError: the images do not fit the encoder (e.g. a ViT patch that does not divide
            them), or a pretrained model is missing.
    """
    spec = ENCODERS[cfg.encoder]
    if spec.takes == "table":
        raise ValueError(f"encoder {cfg.encoder!r} reads table rows: use build_table_encoder")
    return spec.build(cfg, EncoderInput(in_channels=in_channels, image_size=image_size))


def encoder_feature_dim(cfg: ModelConfig) -> int:
    """Size of what the encoder returns, what the heads take: `cfg.feature_dim` for
    small_cnn, audio_cnn and mlp; the backbone's own pooled size for the ResNets, ViTs and hf
    (e.g. 512 for resnet18), read from its config for hf. Nothing is built."""
    return ENCODERS[cfg.encoder].feature_dim(cfg)


def build_table_encoder(
    cfg: ModelConfig, *, num_numeric: int, cardinalities: list[int]
) -> TabularMLP:
    """The MLP encoder for a table with `num_numeric` numeric and these categorical columns."""
    encoder = ENCODERS["mlp"].build(
        cfg, EncoderInput(num_numeric=num_numeric, cardinalities=tuple(cardinalities))
    )
    assert isinstance(encoder, TabularMLP)
    return encoder
