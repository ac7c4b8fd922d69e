"""What a pretrained image backbone does to its input before the first layer."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def prepare_images(
    x: Tensor, *, in_channels: int, channels: int, side: int, mean: Tensor, std: Tensor
) -> Tensor:
    """uint8 in 0..255 or float in [0, 1] images -> float32, grey repeated to `channels`,
    resized to `side` x `side` (bilinear, antialiased when shrinking), then (x - mean) / std.

    Shape:
        (B, in_channels, H, W) -> (B, channels, side, side); mean, std: (1, channels, 1, 1).

    Raises:
        ValueError: `x` is not (B, in_channels, H, W).
    """
    if x.ndim != 4 or x.shape[1] != in_channels:
        raise ValueError(f"expected (B, {in_channels}, H, W) images, got shape {tuple(x.shape)}")
    x = x.float().div(255.0) if x.dtype == torch.uint8 else x.float()
    if in_channels != channels:
        x = x.expand(-1, channels, -1, -1)  # grey -> RGB
    if x.shape[2] != side or x.shape[3] != side:
        shrink = min(x.shape[2], x.shape[3]) > side
        x = F.interpolate(
            x, size=(side, side), mode="bilinear", align_corners=False, antialias=shrink
        )
    return (x - mean) / std
