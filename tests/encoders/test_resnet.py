"""ResNets: torchvision's parameter counts, feature sizes without a forward pass, what each
stem does to the spatial size, zero-init residuals, gradients, bf16 autocast, channels_last."""

from __future__ import annotations

import pytest
import torch

from contrastkit.encoders.resnet import RESNET_ARCHS, ResNet

# torchvision's resnet18/34/50 counts (11,689,512 / 21,797,672 / 25,557,032) less the 1000-way
# fc layer (512 * 1000 + 1000 and 2048 * 1000 + 1000).
TORCHVISION_TRUNK_PARAMS = {"resnet18": 11_176_512, "resnet34": 21_284_672, "resnet50": 23_508_032}


def _params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("name", sorted(TORCHVISION_TRUNK_PARAMS))
def test_parameter_count_matches_torchvision(name: str) -> None:
    assert _params(ResNet.from_name(name, in_channels=3)) == TORCHVISION_TRUNK_PARAMS[name]


@pytest.mark.parametrize("name", list(RESNET_ARCHS))
@pytest.mark.parametrize("stem", ["imagenet", "cifar", "strided"])
def test_output_shape_is_feature_dim(name: str, stem: str) -> None:
    expected = {"resnet18": 512, "resnet34": 512, "resnet50": 2048, "resnet_small": 256}[name]
    assert RESNET_ARCHS[name].feature_dim == expected
    net = ResNet.from_name(name, stem=stem, in_channels=1)  # type: ignore[arg-type]
    assert net.feature_dim == expected
    out = net.eval()(torch.rand(2, 1, 28, 28))
    assert out.shape == (2, expected)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize(
    ("stem", "side"), [("imagenet", 8), ("cifar", 32), ("strided", 16)]
)  # fmt: skip
def test_stem_downsampling(stem: str, side: int) -> None:
    """imagenet: /4 (conv s2 + max-pool s2); cifar: /1; strided: /2."""
    net = ResNet.from_name("resnet_small", stem=stem, in_channels=3)  # type: ignore[arg-type]
    assert net.stem(torch.rand(1, 3, 32, 32)).shape == (1, 32, side, side)


def test_default_stems() -> None:
    assert ResNet.from_name("resnet18").stem_kind == "imagenet"
    assert ResNet.from_name("resnet_small").stem_kind == "strided"


@pytest.mark.parametrize("name", ["resnet18", "resnet50"])
def test_zero_init_residual_zeroes_the_last_bn_of_every_block(name: str) -> None:
    net = ResNet.from_name(name, stem="cifar", zero_init_residual=True)
    blocks = [b for stage in net.stages for b in stage]
    assert len(blocks) == sum(RESNET_ARCHS[name].layers)
    assert all(float(b.last_bn.weight.detach().abs().sum()) == 0.0 for b in blocks)
    plain = ResNet.from_name(name, stem="cifar")
    assert all(float(b.last_bn.weight.detach().min()) == 1.0 for s in plain.stages for b in s)


def test_zero_init_block_is_the_identity_on_non_negative_input() -> None:
    """y = relu(x + 0) = x for x >= 0 when the residual branch ends in gamma = 0."""
    net = ResNet.from_name("resnet18", stem="cifar", zero_init_residual=True).eval()
    x = torch.rand(2, 64, 8, 8)
    assert torch.equal(net.stages[0][0](x), x)


def test_gradients_reach_every_parameter() -> None:
    net = ResNet.from_name("resnet_small", stem="cifar", in_channels=1)
    net(torch.rand(4, 1, 16, 16)).pow(2).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in net.parameters())


def test_bf16_autocast_on_cpu_is_finite_and_close() -> None:
    net = ResNet.from_name("resnet18", stem="cifar", in_channels=1).eval()
    x = torch.rand(2, 1, 16, 16)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        low = net(x)
    assert low.dtype == torch.bfloat16 and torch.isfinite(low).all()
    with torch.no_grad():
        ref = net(x)
    assert torch.allclose(low.float(), ref, atol=0.05 * float(ref.abs().max()))


def test_channels_last_gives_the_same_output() -> None:
    net = ResNet.from_name("resnet18", stem="cifar", in_channels=3).eval()
    x = torch.rand(2, 3, 32, 32)
    ref = net(x)
    fast = net.to(memory_format=torch.channels_last)(x.to(memory_format=torch.channels_last))
    assert torch.allclose(fast, ref, atol=1e-4, rtol=1e-4)


def test_bad_input_and_arguments() -> None:
    net = ResNet.from_name("resnet_small", in_channels=1)
    with pytest.raises(ValueError, match=r"\(B, 1, H, W\)"):
        net(torch.rand(2, 3, 16, 16))
    with pytest.raises(ValueError, match="stem"):
        ResNet(block="basic", layers=(1,), widths=(8,), stem="bogus")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown ResNet 'resnet19'"):
        ResNet.from_name("resnet19")
