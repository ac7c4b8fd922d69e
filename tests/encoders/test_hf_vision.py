"""Pretrained Hugging Face backbones, offline: tiny random configs of each family saved with
`save_pretrained` to a temp folder and loaded from there (no network)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F

from contrastkit.encoders.hf_vision import (
    CLIP_MEAN,
    IMAGENET_MEAN,
    HFVisionEncoder,
    hf_cache_dir,
    hf_feature_dim,
)
from contrastkit.errors import UserError

transformers = pytest.importorskip("transformers")

_VIT = {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "image_size": 16}


def _tiny_models() -> dict[str, tuple[Any, int]]:
    """family -> (a random model, its pooled size)."""
    t = transformers
    clip_vision = {**_VIT, "intermediate_size": 64, "patch_size": 8}
    clip_text = {"hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1,
                 "num_attention_heads": 2, "vocab_size": 64, "bos_token_id": 0,
                 "eos_token_id": 1, "pad_token_id": 1}  # fmt: skip
    return {
        "resnet": (t.ResNetModel(t.ResNetConfig(
            embedding_size=8, hidden_sizes=[8, 12], depths=[1, 1], layer_type="basic")), 12),
        "vit": (t.ViTModel(t.ViTConfig(**_VIT, intermediate_size=64, patch_size=8)), 32),
        "dinov2": (t.Dinov2Model(t.Dinov2Config(**_VIT, mlp_ratio=2, patch_size=8)), 32),
        "convnext": (t.ConvNextModel(t.ConvNextConfig(
            hidden_sizes=[8, 12], depths=[1, 1], num_stages=2)), 12),
        "clip_vision": (t.CLIPVisionModel(t.CLIPVisionConfig(**clip_vision)), 32),
        "clip": (t.CLIPModel(t.CLIPConfig(
            vision_config=clip_vision, text_config=clip_text)), 32),
    }  # fmt: skip


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, int]]:
    root = tmp_path_factory.mktemp("hf")
    out = {}
    torch.manual_seed(0)
    for family, (model, dim) in _tiny_models().items():
        model.save_pretrained(root / family)
        out[family] = (root / family, dim)
    return out


FAMILIES = ["resnet", "vit", "dinov2", "convnext", "clip_vision", "clip"]


@pytest.mark.parametrize("family", FAMILIES)
def test_loads_offline_with_feature_dim_from_config(
    family: str, saved: dict[str, tuple[Path, int]]
) -> None:
    path, dim = saved[family]
    assert hf_feature_dim(str(path)) == dim  # from config.json alone
    encoder = HFVisionEncoder(name=str(path), in_channels=3).eval()
    assert encoder.feature_dim == dim and encoder.note is None
    out = encoder(torch.randint(0, 256, (2, 3, 20, 20), dtype=torch.uint8))
    assert out.shape == (2, dim) and torch.isfinite(out).all()


@pytest.mark.parametrize("family", FAMILIES)
def test_output_equals_the_model_on_hand_preprocessed_input(
    family: str, saved: dict[str, tuple[Path, int]]
) -> None:
    """Parity: resize to the model's size, (x - mean) / std with the family default, then the
    family's pooled output, computed by hand from the `transformers` model."""
    path, _ = saved[family]
    encoder = HFVisionEncoder(name=str(path), in_channels=3).eval()
    x = torch.rand(2, 3, 16, 16)
    size = encoder.image_size
    assert size == (224 if family in ("resnet", "convnext") else 16)  # config's, else 224
    mean = {"clip": CLIP_MEAN, "clip_vision": CLIP_MEAN, "vit": (0.5,) * 3}.get(
        family, IMAGENET_MEAN
    )
    std = {"vit": (0.5,) * 3}.get(family)
    expected_x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    expected_x = (expected_x - torch.tensor(mean).view(1, 3, 1, 1)) / encoder.std
    if std is not None:
        assert torch.equal(encoder.std.flatten(), torch.tensor(std))
    assert torch.allclose(encoder.preprocess(x), expected_x, atol=1e-6)
    with torch.no_grad():
        raw = encoder.model(pixel_values=expected_x)
        pooled = raw.last_hidden_state[:, 0] if family == "vit" else raw.pooler_output.flatten(1)
        assert torch.allclose(encoder(x), pooled, atol=1e-5)


def test_saved_image_processor_sets_mean_std_and_size(
    saved: dict[str, tuple[Path, int]], tmp_path: Path
) -> None:
    path, _ = saved["resnet"]
    folder = tmp_path / "resnet"
    folder.mkdir()
    for file in path.iterdir():
        (folder / file.name).write_bytes(file.read_bytes())
    processor = {"image_mean": [0.1, 0.2, 0.3], "image_std": [0.5, 0.25, 0.125],
                 "size": {"shortest_edge": 40}, "do_center_crop": True,
                 "crop_size": {"height": 32, "width": 32}}  # fmt: skip
    (folder / "preprocessor_config.json").write_text(json.dumps(processor))
    encoder = HFVisionEncoder(name=str(folder), in_channels=3)
    assert encoder.image_size == 32
    x = torch.full((1, 3, 32, 32), 255, dtype=torch.uint8)  # 1.0 after /255, no resize
    expected = (1.0 - torch.tensor([0.1, 0.2, 0.3])) / torch.tensor([0.5, 0.25, 0.125])
    assert torch.allclose(encoder.preprocess(x)[0, :, 0, 0], expected)


def test_grey_images_are_repeated_to_rgb_with_a_note(saved: dict[str, tuple[Path, int]]) -> None:
    path, dim = saved["dinov2"]
    grey = HFVisionEncoder(name=str(path), in_channels=1).eval()
    assert grey.note is not None and "grey images repeated to 3 channels" in grey.note
    rgb = HFVisionEncoder(name=str(path), in_channels=3).eval()
    x = torch.rand(2, 1, 16, 16)
    assert torch.allclose(grey(x), rgb(x.repeat(1, 3, 1, 1)), atol=1e-6)
    with pytest.raises(UserError, match="takes 3-channel images, the data have 2"):
        HFVisionEncoder(name=str(path), in_channels=2)


def test_freeze_keeps_weights_and_batchnorm_fixed(saved: dict[str, tuple[Path, int]]) -> None:
    path, _ = saved["resnet"]
    frozen = HFVisionEncoder(name=str(path), in_channels=3, freeze=True)
    frozen.train()
    assert frozen.training and not frozen.model.training
    assert all(not p.requires_grad for p in frozen.parameters())
    bn = next(m for m in frozen.model.modules() if isinstance(m, torch.nn.BatchNorm2d))
    before = bn.running_mean.clone()
    out = frozen(torch.rand(4, 3, 16, 16))
    assert not out.requires_grad and torch.equal(bn.running_mean, before)

    tuned = HFVisionEncoder(name=str(path), in_channels=3, freeze=False).train()
    tuned(torch.rand(4, 3, 16, 16)).sum().backward()
    assert tuned.model.training
    grads = [p.grad for p in tuned.parameters() if p.requires_grad]
    assert grads and all(g is not None for g in grads)


def test_mean_pool_is_the_mean_of_patch_tokens(saved: dict[str, tuple[Path, int]]) -> None:
    path, _ = saved["vit"]
    encoder = HFVisionEncoder(name=str(path), in_channels=3, pool="mean").eval()
    x = torch.rand(2, 3, 16, 16)
    with torch.no_grad():
        tokens = encoder.model(pixel_values=encoder.preprocess(x)).last_hidden_state
        assert torch.allclose(encoder(x), tokens[:, 1:].mean(dim=1), atol=1e-6)


def test_missing_model_says_where_it_looked_and_how_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(UserError) as err:
        HFVisionEncoder(name="nobody-here/no-such-model-xyz")
    message = str(err.value)
    assert str(hf_cache_dir()) in message
    assert "huggingface-cli download nobody-here/no-such-model-xyz" in message
    with pytest.raises(UserError, match="no such folder"):
        hf_feature_dim(str(tmp_path / "absent"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match=r"has no config\.json"):
        hf_feature_dim(str(tmp_path / "empty"))


def test_unsupported_family_is_refused(tmp_path: Path) -> None:
    config = transformers.BertConfig(hidden_size=16, num_hidden_layers=1,
                                     num_attention_heads=2, intermediate_size=32)  # fmt: skip
    config.save_pretrained(tmp_path)
    with pytest.raises(UserError, match="model_type 'bert' is not a supported vision backbone"):
        hf_feature_dim(str(tmp_path))


@pytest.mark.parametrize("family", FAMILIES)
def test_random_init_is_the_same_architecture_seeded_without_the_weights(
    family: str, saved: dict[str, tuple[Path, int]]
) -> None:
    path, dim = saved[family]
    loaded = HFVisionEncoder(name=str(path)).state_dict()
    torch.manual_seed(1)
    fresh = HFVisionEncoder(name=str(path), pretrained=False).state_dict()
    torch.manual_seed(1)
    again = HFVisionEncoder(name=str(path), pretrained=False).state_dict()
    assert {k: v.shape for k, v in fresh.items()} == {k: v.shape for k, v in loaded.items()}
    assert all(torch.equal(fresh[k], again[k]) for k in fresh)  # seeded
    weights = [k for k, v in loaded.items() if k.endswith(".weight") and v.ndim >= 2]
    assert weights and all(not torch.equal(fresh[k], loaded[k]) for k in weights)
    with pytest.raises(ValueError, match="freeze needs pretrained"):
        HFVisionEncoder(name=str(path), freeze=True, pretrained=False)


def test_random_init_settings_drop_the_weights_and_the_freeze() -> None:
    from pydantic import ValidationError

    from contrastkit.encoders.options import ModelConfig

    cfg = ModelConfig(encoder="hf", name="some/model", freeze=True)
    assert cfg.random_init().model_dump() == {
        **cfg.model_dump(),
        "pretrained": False,
        "freeze": False,
    }
    with pytest.raises(ValidationError, match="model.freeze needs pretrained weights"):
        ModelConfig(encoder="hf", name="some/model", freeze=True, pretrained=False)
