"""The encoders a config can name, each registered once here: how it is built, what input it
takes and how big its output is (known without building it). `ModelConfig.encoder` is
checked against this table, `build_encoder` builds from it and the contract test in
tests/encoders runs over every name in it.

Output size (`feature_dim`): small_cnn, audio_cnn and mlp end in a Linear to
`model.feature_dim`; the ResNets, ViTs and Hugging Face backbones give their own pooled
features (512 for ResNet-18, 2048 for ResNet-50, 192 for ViT-Tiny, the config's hidden size
for a pretrained model) with no extra Linear: that pooled output is the representation SSL
papers evaluate (SimCLR's h, arXiv:2002.05709), a Linear to a smaller size would be an
untrained bottleneck in front of a pretrained model, and the projection heads already map it
to `model.proj_dim`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from torch import nn

from contrastkit.encoders.audio import AudioCNN
from contrastkit.encoders.efficientnet_lite import (
    FEATURE_DIM,
    LITE_ARCHS,
    PARTS,
    EfficientNetLite,
)
from contrastkit.encoders.hf_vision import HFVisionEncoder, hf_feature_dim
from contrastkit.encoders.lite_weights import load_lite_weights
from contrastkit.encoders.mlp import TabularMLP
from contrastkit.encoders.resnet import RESNET_ARCHS, ResNet
from contrastkit.encoders.small_cnn import SmallCNN
from contrastkit.encoders.vit import VIT_ARCHS, ViT

if TYPE_CHECKING:
    from contrastkit.encoders.options import ModelConfig

Takes = Literal["image", "log_mel", "table"]


@dataclass(frozen=True)
class EncoderInput:
    """What the encoder will be given (only the fields its kind reads matter).

    Attributes:
        in_channels: Image channels (1 grey, 3 colour).
        image_size: Side of the (square) training images; needed by the ViTs.
        num_numeric: Numeric columns of a table row.
        cardinalities: Codes per categorical column of a table row.
    """

    in_channels: int = 1
    image_size: int | None = None
    num_numeric: int = 0
    cardinalities: tuple[int, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class EncoderSpec:
    """One registered encoder.

    Attributes:
        name: What `model.encoder` says.
        takes: "image" (B, C, H, W), "log_mel" (B, 1, mels, frames) or "table" rows.
        summary: One line for help texts.
        build: (model options, input) -> the module, mapping (B, ...) -> (B, feature_dim).
        feature_dim: (model options) -> the size of the output, without building anything.
        loads_weights: `model.pretrained` loads pretrained weights into it (its evaluation
            then has a "pretrained, not fine-tuned" baseline).
    """

    name: str
    takes: Takes
    summary: str
    build: Callable[[ModelConfig, EncoderInput], nn.Module]
    feature_dim: Callable[[ModelConfig], int]
    loads_weights: bool = False


def _own_dim(cfg: ModelConfig) -> int:
    return cfg.feature_dim


def _small_cnn(cfg: ModelConfig, inp: EncoderInput) -> nn.Module:
    return SmallCNN(in_channels=inp.in_channels, width=cfg.width, feature_dim=cfg.feature_dim)


def _audio_cnn(cfg: ModelConfig, inp: EncoderInput) -> nn.Module:
    return AudioCNN(width=cfg.width, feature_dim=cfg.feature_dim)


def _mlp(cfg: ModelConfig, inp: EncoderInput) -> nn.Module:
    return TabularMLP(
        num_numeric=inp.num_numeric,
        cardinalities=list(inp.cardinalities),
        width=cfg.width,
        depth=cfg.depth,
        cat_embed_dim=cfg.cat_embed_dim,
        feature_dim=cfg.feature_dim,
    )


def _resnet(name: str) -> EncoderSpec:
    arch = RESNET_ARCHS[name]

    def build(cfg: ModelConfig, inp: EncoderInput) -> nn.Module:
        return ResNet.from_name(name, stem=cfg.stem, in_channels=inp.in_channels)

    depth = sum(arch.layers) * (3 if arch.block == "bottleneck" else 2) + 2
    summary = (
        f"ResNet-{depth} ({arch.feature_dim}-d; model.stem imagenet/cifar/strided)"
        if name != "resnet_small"
        else "small fast ResNet for CPUs: widths 32-256, one block per stage, stride-2 stem"
    )
    return EncoderSpec(name, "image", summary, build, lambda cfg: arch.feature_dim)


def _vit(name: str) -> EncoderSpec:
    arch = VIT_ARCHS[name]

    def build(cfg: ModelConfig, inp: EncoderInput) -> nn.Module:
        if inp.image_size is None:
            raise ValueError(f"{name} needs the image size to size its position embeddings")
        return ViT.from_name(
            name,
            image_size=inp.image_size,
            patch_size=cfg.patch_size,
            in_channels=inp.in_channels,
            pool=cfg.pool,
        )

    summary = f"ViT ({arch.width} wide, {arch.depth} layers, {arch.heads} heads; model.patch_size)"
    return EncoderSpec(name, "image", summary, build, lambda cfg: arch.feature_dim)


def _lite(name: str) -> EncoderSpec:
    arch = LITE_ARCHS[name]

    def build(cfg: ModelConfig, inp: EncoderInput) -> nn.Module:
        encoder = EfficientNetLite(arch, in_channels=inp.in_channels, resolution=cfg.resolution)
        if cfg.pretrained:
            load_lite_weights(encoder, name)
        encoder.freeze(parts=PARTS if cfg.freeze else cfg.frozen_parts, batchnorm=cfg.freeze_bn)
        return encoder

    summary = (
        f"EfficientNet-Lite{name[-1]} (1280-d; ImageNet weights with model.pretrained, "
        f"{arch.resolution} px native, model.resolution)"
    )
    return EncoderSpec(name, "image", summary, build, lambda cfg: FEATURE_DIM, loads_weights=True)


def _hf(cfg: ModelConfig, inp: EncoderInput) -> nn.Module:
    assert cfg.name is not None  # ModelConfig checks it
    return HFVisionEncoder(
        name=cfg.name,
        in_channels=inp.in_channels,
        freeze=cfg.freeze,
        pool=cfg.pool,
        pretrained=cfg.pretrained,
    )


def _hf_dim(cfg: ModelConfig) -> int:
    assert cfg.name is not None  # ModelConfig checks it
    return hf_feature_dim(cfg.name)


ENCODERS: dict[str, EncoderSpec] = {
    spec.name: spec
    for spec in [
        EncoderSpec("small_cnn", "image", "4 conv blocks, one max-pool", _small_cnn, _own_dim),
        EncoderSpec(
            "audio_cnn", "log_mel", "small CNN over log-mel spectrograms", _audio_cnn, _own_dim
        ),  # fmt: skip
        EncoderSpec(
            "mlp", "table", "MLP over numeric + embedded categorical columns", _mlp, _own_dim
        ),  # fmt: skip
        *(_resnet(name) for name in RESNET_ARCHS),
        *(_vit(name) for name in VIT_ARCHS),
        *(_lite(name) for name in LITE_ARCHS),
        EncoderSpec(
            "hf",
            "image",
            "pretrained Hugging Face backbone (model.name, model.freeze)",
            _hf,
            _hf_dim,
            loads_weights=True,
        ),  # fmt: skip
    ]
}
"""Every encoder `model.encoder` can name."""
