"""The views a method asks for: two views (`two_views`, a single-view augment called twice
or a view set's first two), or multi-crop (SwAV arXiv:2006.09882, DINO arXiv:2104.14294):
two global crops at full size and several small local crops covering less of the image.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from contrastkit.augment.image import ViewAugment
from contrastkit.augment.views import MultiCrop


def two_views(
    images: Tensor, augment: object, generator: torch.Generator | None = None
) -> tuple[Tensor, Tensor]:
    """Two random views of each image: two calls of a single-view augment, or the first
    two views of a view set (`MultiCrop`, e.g. BYOL's asymmetric pair, `augment.views`).

    Returns:
        Two tensors of Shape (B, C, H', W').
    """
    if isinstance(augment, MultiCrop):
        views = augment(images, generator)
        return views[0], views[1]
    if not callable(augment):
        raise TypeError(f"augment must be callable, got {type(augment).__name__}")
    return augment(images, generator), augment(images, generator)


@dataclass(frozen=True)
class LocalCrops:
    """Multi-crop's small views: `count` crops of `size` pixels, each covering a fraction
    `scale` (low, high) of the image (SwAV's and DINO's `local_*` options)."""

    count: int
    size: int
    scale: tuple[float, float]


def multi_crop(
    images: Tensor,
    augment: object,
    local: LocalCrops,
    generator: torch.Generator | None = None,
) -> list[Tensor]:
    """The crops of a batch: a `MultiCrop` augment (`augment.views: multicrop`) is used as
    it is; a single `ViewAugment` gives two global views plus the `local` crops.

    Args:
        images: Shape: (B, C, H, W).
        augment: A `MultiCrop`, or a `ViewAugment` (its crop scale and size are replaced
            for the local crops).
        local: The small crops made from a `ViewAugment`.

    Returns:
        2 global tensors of Shape (B, C, H, W), then the local ones (B, C, s, s).

    Raises:
        TypeError: If `augment` is neither (other callables cannot crop small).
    """
    if isinstance(augment, MultiCrop):
        return augment(images, generator)
    if not isinstance(augment, ViewAugment):
        raise TypeError(
            f"multi-crop needs a ViewAugment or MultiCrop, got {type(augment).__name__}"
        )
    views = [augment(images, generator), augment(images, generator)]
    if local.count == 0:
        return views
    small = dataclasses.replace(augment, crop_scale=local.scale, size=local.size)
    return views + [small(images, generator) for _ in range(local.count)]


def encode_crops(net: Callable[[Tensor], Tensor], crops: Sequence[Tensor]) -> Tensor:
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
