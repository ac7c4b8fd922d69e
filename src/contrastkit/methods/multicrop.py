"""Multi-crop views (SwAV arXiv:2006.09882, DINO arXiv:2104.14294): two global crops at
full size and several small local crops covering less of the image.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from contrastkit.augment.image import ViewAugment


def multi_crop(
    images: Tensor,
    augment: object,
    *,
    local_crops: int,
    local_size: int,
    local_scale: tuple[float, float],
    generator: torch.Generator | None = None,
) -> list[Tensor]:
    """Two global views with `augment`, then `local_crops` views of `local_size` pixels
    whose crop covers a fraction `local_scale` of the image.

    Args:
        images: Shape: (B, C, H, W).
        augment: A `ViewAugment` (its crop scale is replaced for the local crops).

    Returns:
        2 tensors of Shape (B, C, H, W), then `local_crops` of Shape (B, C, s, s).

    Raises:
        TypeError: If `augment` is not a `ViewAugment` (other callables cannot crop small).
    """
    if not isinstance(augment, ViewAugment):
        raise TypeError(f"multi-crop needs a ViewAugment, got {type(augment).__name__}")
    views = [augment(images, generator), augment(images, generator)]
    if local_crops == 0:
        return views
    local = dataclasses.replace(augment, crop_scale=local_scale)
    size = (local_size, local_size)
    return views + [local(images, generator, size=size) for _ in range(local_crops)]


def encode_crops(net: nn.Module, crops: Sequence[Tensor]) -> Tensor:
    """Run `net` once per crop resolution (crops of one size share a batch, as in SwAV).

    Args:
        crops: V tensors of Shape (B, C, H_v, W_v), same-size ones consecutive.

    Returns:
        Shape: (V, B, P), in the order of `crops`.
    """
    outputs: list[Tensor] = []
    start = 0
    while start < len(crops):
        end = start
        while end < len(crops) and crops[end].shape == crops[start].shape:
            end += 1
        out = net(torch.cat(list(crops[start:end])))  # ((end-start)*B, P)
        outputs.extend(out.chunk(end - start))
        start = end
    return torch.stack(outputs)
