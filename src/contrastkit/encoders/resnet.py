"""ResNets in plain PyTorch: ResNet-18/34/50 (He et al., arXiv:1512.03385, with the stride on
the 3x3 convolution of the bottleneck, "ResNet v1.5") and a small fast ResNet for CPU work.

The encoder returns the globally average-pooled features of the last stage (no classifier):
that is the representation `h` of SimCLR (arXiv:2002.05709), of size `feature_dim`, known
from the architecture alone (512 for ResNet-18/34, 2048 for ResNet-50, 256 for the small one).

Stems:
    imagenet: 7x7 conv stride 2 + 3x3 max-pool stride 2 (the input shrinks 4x at once);
    cifar:    3x3 conv stride 1, no max-pool (for 28-32 pixel images, as in SimCLR's CIFAR runs);
    strided:  3x3 conv stride 2, no max-pool (half the pixels: the cost falls 4x).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from torch import Tensor, nn

Stem = Literal["imagenet", "cifar", "strided"]
BlockKind = Literal["basic", "bottleneck"]
STEMS: tuple[Stem, ...] = ("imagenet", "cifar", "strided")


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with a residual: y = relu(x' + bn(conv(relu(bn(conv(x)))))),
    x' = x or a strided 1x1 projection when the shape changes.

    Shape:
        (B, c_in, H, W) -> (B, width, ceil(H / stride), ceil(W / stride)).
    """

    expansion = 1

    def __init__(self, c_in: int, width: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, width, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = _shortcut(c_in, width, stride)

    @property
    def last_bn(self) -> nn.BatchNorm2d:
        return self.bn2

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class Bottleneck(nn.Module):
    """1x1 (reduce to `width`) -> 3x3 (stride) -> 1x1 (expand to 4 * width), with a residual.

    Shape:
        (B, c_in, H, W) -> (B, 4 * width, ceil(H / stride), ceil(W / stride)).
    """

    expansion = 4

    def __init__(self, c_in: int, width: int, stride: int) -> None:
        super().__init__()
        c_out = width * self.expansion
        self.conv1 = nn.Conv2d(c_in, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, c_out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(c_out)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = _shortcut(c_in, c_out, stride)

    @property
    def last_bn(self) -> nn.BatchNorm2d:
        return self.bn3

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + self.shortcut(x))


def _shortcut(c_in: int, c_out: int, stride: int) -> nn.Module:
    if stride == 1 and c_in == c_out:
        return nn.Identity()
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out)
    )


_BLOCKS: dict[BlockKind, type[BasicBlock] | type[Bottleneck]] = {
    "basic": BasicBlock,
    "bottleneck": Bottleneck,
}


@dataclass(frozen=True)
class ResNetArch:
    """One ResNet's shape: block type, blocks per stage, widths per stage, default stem."""

    block: BlockKind
    layers: tuple[int, ...]
    widths: tuple[int, ...]
    default_stem: Stem

    @property
    def feature_dim(self) -> int:
        """Channels of the last stage = size of the pooled representation."""
        return self.widths[-1] * _BLOCKS[self.block].expansion


RESNET_ARCHS: dict[str, ResNetArch] = {
    "resnet18": ResNetArch("basic", (2, 2, 2, 2), (64, 128, 256, 512), "imagenet"),
    "resnet34": ResNetArch("basic", (3, 4, 6, 3), (64, 128, 256, 512), "imagenet"),
    "resnet50": ResNetArch("bottleneck", (3, 4, 6, 3), (64, 128, 256, 512), "imagenet"),
    "resnet_small": ResNetArch("basic", (1, 1, 1, 1), (32, 64, 128, 256), "strided"),
}
"""The named ResNets; `resnet_small` is this project's CPU ResNet (stride-2 3x3 stem)."""


def _stem(kind: Stem, in_channels: int, width: int) -> nn.Sequential:
    if kind == "imagenet":
        conv = nn.Conv2d(in_channels, width, 7, stride=2, padding=3, bias=False)
        pool: list[nn.Module] = [nn.MaxPool2d(3, stride=2, padding=1)]
    elif kind == "cifar":
        conv, pool = nn.Conv2d(in_channels, width, 3, stride=1, padding=1, bias=False), []
    else:
        conv, pool = nn.Conv2d(in_channels, width, 3, stride=2, padding=1, bias=False), []
    return nn.Sequential(conv, nn.BatchNorm2d(width), nn.ReLU(inplace=True), *pool)


class ResNet(nn.Module):
    """A ResNet trunk: stem, four stages (the first at stride 1, the others halving H and W),
    global average pooling. No classifier.

    Args:
        block: "basic" (two 3x3 convs) or "bottleneck" (1x1-3x3-1x1, 4x expansion).
        layers: Blocks per stage, e.g. (2, 2, 2, 2) for ResNet-18.
        widths: Channels per stage (before expansion), e.g. (64, 128, 256, 512).
        stem: "imagenet", "cifar" or "strided" (see the module docstring).
        in_channels: 1 for grey images, 3 for colour.
        zero_init_residual: Start the last BatchNorm of every block at gamma = 0, so each
            block starts as the identity (Goyal et al., arXiv:1706.02677).

    Shape:
        input (B, in_channels, H, W) float -> output (B, feature_dim).

    Example:
        >>> net = ResNet.from_name("resnet18", stem="cifar", in_channels=1)
        >>> net.feature_dim
        512
    """

    def __init__(
        self,
        *,
        block: BlockKind,
        layers: Sequence[int],
        widths: Sequence[int] = (64, 128, 256, 512),
        stem: Stem = "imagenet",
        in_channels: int = 3,
        zero_init_residual: bool = False,
    ) -> None:
        super().__init__()
        if block not in _BLOCKS:
            raise ValueError(f"block must be one of {sorted(_BLOCKS)}, got {block!r}")
        if stem not in STEMS:
            raise ValueError(f"stem must be one of {list(STEMS)}, got {stem!r}")
        if len(layers) != len(widths) or not layers or min([*layers, *widths]) < 1:
            raise ValueError(
                f"layers and widths need the same length >= 1 and values >= 1, got "
                f"{list(layers)} and {list(widths)}"
            )
        if in_channels < 1:
            raise ValueError(f"in_channels must be >= 1, got {in_channels}")
        block_cls = _BLOCKS[block]
        self.in_channels = in_channels
        self.stem_kind: Stem = stem
        self.stem = _stem(stem, in_channels, widths[0])
        stages: list[nn.Module] = []
        c_in = widths[0]
        for i, (n, width) in enumerate(zip(layers, widths, strict=True)):
            blocks: list[nn.Module] = []
            for j in range(n):
                stride = 2 if i > 0 and j == 0 else 1
                blocks.append(block_cls(c_in, width, stride))
                c_in = width * block_cls.expansion
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(1))
        self._feature_dim = c_in
        self._init_weights(zero_init_residual)

    @classmethod
    def from_name(
        cls,
        name: str,
        *,
        stem: Stem | None = None,
        in_channels: int = 3,
        zero_init_residual: bool = False,
    ) -> ResNet:
        """One of `RESNET_ARCHS` ("resnet18", "resnet34", "resnet50", "resnet_small"); `stem`
        None takes the architecture's default (imagenet, or strided for resnet_small)."""
        if name not in RESNET_ARCHS:
            raise ValueError(f"unknown ResNet {name!r} (known: {', '.join(RESNET_ARCHS)})")
        arch = RESNET_ARCHS[name]
        return cls(
            block=arch.block,
            layers=arch.layers,
            widths=arch.widths,
            stem=arch.default_stem if stem is None else stem,
            in_channels=in_channels,
            zero_init_residual=zero_init_residual,
        )

    @property
    def feature_dim(self) -> int:
        """Size of the pooled output (channels of the last stage)."""
        return self._feature_dim

    def _init_weights(self, zero_init_residual: bool) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, BasicBlock | Bottleneck):
                    nn.init.zeros_(m.last_bn.weight)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"expected (B, {self.in_channels}, H, W) images, got shape {tuple(x.shape)}"
            )
        out: Tensor = self.pool(self.stages(self.stem(x)))  # (B, C, h, w) -> (B, C)
        return out
