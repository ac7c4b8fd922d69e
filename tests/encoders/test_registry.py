"""The encoder registry's contract, over every registered name: the feature size known
without building equals the built module's output size, gradients reach the parameters,
and `ModelConfig` accepts exactly the registered names."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from pydantic import ValidationError
from torch import nn

from contrastkit.encoders.build import build_encoder, build_table_encoder, encoder_feature_dim
from contrastkit.encoders.options import ModelConfig
from contrastkit.encoders.registry import ENCODERS, EncoderInput
from contrastkit.encoders.resnet import ResNet
from contrastkit.encoders.vit import ViT


@pytest.fixture(scope="module")
def hf_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    transformers = pytest.importorskip("transformers")
    config = transformers.ViTConfig(
        hidden_size=24, num_hidden_layers=1, num_attention_heads=2, intermediate_size=48,
        image_size=16, patch_size=8,
    )  # fmt: skip
    folder = tmp_path_factory.mktemp("hf") / "tiny-vit"
    transformers.ViTModel(config).save_pretrained(folder)
    return folder


def _example(takes: str) -> tuple[EncoderInput, tuple[torch.Tensor, ...]]:
    if takes == "table":
        codes = torch.stack([torch.randint(0, 3, (4,)), torch.randint(0, 5, (4,))], dim=1)
        return EncoderInput(num_numeric=3, cardinalities=(3, 5)), (torch.randn(4, 3), codes)
    if takes == "log_mel":
        return EncoderInput(in_channels=1), (torch.randn(4, 1, 32, 40),)
    return EncoderInput(in_channels=1, image_size=16), (torch.rand(4, 1, 16, 16),)


@pytest.mark.parametrize("name", list(ENCODERS))
def test_contract(name: str, hf_folder: Path) -> None:
    spec = ENCODERS[name]
    cfg = ModelConfig(
        encoder=name, width=8, feature_dim=24, patch_size=4, stem="cifar",
        name=str(hf_folder) if name == "hf" else None,
    )  # fmt: skip
    dim = encoder_feature_dim(cfg)
    if name in ("small_cnn", "audio_cnn", "mlp"):
        assert dim == cfg.feature_dim
    inp, args = _example(spec.takes)
    encoder = spec.build(cfg, inp)
    assert isinstance(encoder, nn.Module)
    assert getattr(encoder, "feature_dim", None) == dim
    out = encoder.train()(*args)
    assert out.shape == (4, dim) and torch.isfinite(out).all()
    out.pow(2).mean().backward()
    trainable = [p for p in encoder.parameters() if p.requires_grad]
    assert trainable and any(p.grad is not None and p.grad.abs().sum() > 0 for p in trainable)


@pytest.mark.parametrize(
    ("name", "dim"),
    [("resnet18", 512), ("resnet34", 512), ("resnet50", 2048), ("resnet_small", 256),
     ("vit_tiny", 192), ("vit_small", 384), ("small_cnn", 128)],
)  # fmt: skip
def test_feature_dim_without_building(name: str, dim: int) -> None:
    assert encoder_feature_dim(ModelConfig(encoder=name)) == dim


def test_build_encoder_keeps_todays_callers() -> None:
    cfg = ModelConfig()
    assert (cfg.encoder, cfg.width, cfg.feature_dim, cfg.stem, cfg.patch_size) == (
        "small_cnn", 32, 128, None, 16
    )  # fmt: skip
    encoder = build_encoder(cfg, 1)
    assert type(encoder).__name__ == "SmallCNN"
    assert encoder(torch.rand(2, 1, 8, 8)).shape == (2, 128)
    audio = build_encoder(ModelConfig(encoder="audio_cnn", width=16), 1)
    assert type(audio).__name__ == "AudioCNN"
    table = build_table_encoder(ModelConfig(encoder="mlp"), num_numeric=2, cardinalities=[4])
    assert table.feature_dim == 128
    with pytest.raises(ValueError, match="build_table_encoder"):
        build_encoder(ModelConfig(encoder="mlp"), 1)


def test_stem_and_patch_options_reach_the_backbones() -> None:
    resnet = build_encoder(ModelConfig(encoder="resnet18", stem="cifar"), 1)
    small = build_encoder(ModelConfig(encoder="resnet_small"), 3)
    assert isinstance(resnet, ResNet) and isinstance(small, ResNet)
    assert (resnet.stem_kind, small.stem_kind) == ("cifar", "strided")
    vit = build_encoder(ModelConfig(encoder="vit_tiny", patch_size=7, pool="mean"), 1, 28)
    assert isinstance(vit, ViT) and (vit.patch_size, vit.pool) == (7, "mean")
    with pytest.raises(ValueError, match="needs the image size"):
        build_encoder(ModelConfig(encoder="vit_tiny"), 1)


def test_unknown_encoder_names_the_nearest_and_the_valid_ones() -> None:
    with pytest.raises(ValidationError) as err:
        ModelConfig(encoder="resnet19")
    message = str(err.value)
    assert "did you mean 'resnet18'?" in message
    assert ", ".join(ENCODERS) in message


def test_hf_needs_a_name() -> None:
    with pytest.raises(ValidationError, match="model.encoder 'hf' needs model.name"):
        ModelConfig(encoder="hf")
    with pytest.raises(ValidationError):
        ModelConfig(stem="resnet")  # type: ignore[arg-type]
