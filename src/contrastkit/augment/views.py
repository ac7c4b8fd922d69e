"""View sets and the papers' presets: SimCLR views, BYOL asymmetric views, multi-crop.

A `MultiCrop` turns a batch into a list of views: one per global view augment (each can
be different, as BYOL's and DINO's asymmetric pair), then `num_local` small local crops
at their own output size (SwAV, arXiv:2006.09882; DINO, arXiv:2104.14294). The local crops
of the whole batch are made in one call on the batch repeated `num_local` times.

Example:
    >>> views = multicrop(global_size=32, local_size=16, num_local=4)
    >>> crops = views(images, gen)    # [2 x (B, C, 32, 32), 4 x (B, C, 16, 16)]
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import Tensor

from contrastkit.augment.image import ViewAugment


@dataclass(frozen=True)
class MultiCrop:
    """Global views (one per entry of `global_views`) then `num_local` local crops.

    Args:
        global_views: One augment per global view; BYOL/DINO use two different ones.
        local_view: The augment of every local crop (its `size` is the local size);
            needed when `num_local > 0`.
        num_local: How many local crops per image.
    """

    global_views: tuple[ViewAugment, ...]
    local_view: ViewAugment | None = None
    num_local: int = 0

    def __post_init__(self) -> None:
        if not self.global_views:
            raise ValueError("global_views must hold at least one ViewAugment")
        if self.num_local < 0:
            raise ValueError(f"num_local must be >= 0, got {self.num_local}")
        if self.num_local > 0 and self.local_view is None:
            raise ValueError(f"num_local={self.num_local} needs a local_view")

    @property
    def num_views(self) -> int:
        return len(self.global_views) + self.num_local

    def __call__(self, images: Tensor, generator: torch.Generator | None = None) -> list[Tensor]:
        """The views of a batch, global first.

        Args:
            images: Shape: (B, C, H, W), uint8 or float in [0, 1].
            generator: Optional source of randomness on the images' device.

        Returns:
            `len(global_views)` tensors (B, C, Hg, Wg), then `num_local` tensors
            (B, C, Hl, Wl); float as `ViewAugment` returns.
        """
        views = [view(images, generator) for view in self.global_views]
        if self.num_local > 0 and self.local_view is not None:
            repeated = images.repeat(self.num_local, 1, 1, 1)  # (num_local * B, C, H, W)
            views.extend(self.local_view(repeated, generator).chunk(self.num_local))
        return views


def simclr_view(
    *,
    size: int | None = None,
    strength: float = 0.5,
    crop_scale: tuple[float, float] = (0.08, 1.0),
    blur_prob: float = 0.5,
) -> ViewAugment:
    """SimCLR's view (Chen et al. 2020, arXiv:2002.05709, appendix A).

    Random resized crop (scale 0.08-1), horizontal flip p=0.5, colour jitter with
    probability 0.8 (brightness, contrast, saturation 0.8 s, hue 0.2 s; s = `strength`,
    0.5 on CIFAR), grayscale p=0.2, Gaussian blur (sigma 0.1-2 px; the paper leaves it
    out on CIFAR: pass `blur_prob=0`). No rotation, no noise.
    """
    return ViewAugment(
        crop_scale=crop_scale,
        crop_ratio=(3 / 4, 4 / 3),
        rotation_deg=0.0,
        blur_prob=blur_prob,
        blur_sigma=(0.1, 2.0),
        noise_std=0.0,
        hflip_prob=0.5,
        size=size,
        jitter_prob=0.8,
        brightness=0.8 * strength,
        contrast=0.8 * strength,
        saturation=0.8 * strength,
        hue=0.2 * strength,
        grayscale_prob=0.2,
    )


def byol_pair(base: ViewAugment) -> tuple[ViewAugment, ViewAugment]:
    """BYOL's asymmetric pair built on `base` (Grill et al. 2020, arXiv:2006.07733,
    table 6): blur with probability 1.0 / 0.1 and solarize with probability 0 / 0.2."""
    return (
        replace(base, blur_prob=1.0, solarize_prob=0.0),
        replace(base, blur_prob=0.1, solarize_prob=0.2),
    )


def byol_views(*, size: int | None = None, base: ViewAugment | None = None) -> MultiCrop:
    """BYOL's two asymmetric views. `base` defaults to the paper's photo pipeline (crop
    0.08-1, flip, jitter 0.4/0.4/0.2/0.1 with p=0.8, grayscale p=0.2)."""
    if base is None:
        base = replace(
            simclr_view(size=size),
            brightness=0.4,
            contrast=0.4,
            saturation=0.2,
            hue=0.1,
        )
    return MultiCrop(global_views=byol_pair(base))


def multicrop(
    *,
    global_size: int | None = None,
    local_size: int,
    num_local: int = 6,
    global_scale: tuple[float, float] = (0.4, 1.0),
    local_scale: tuple[float, float] = (0.05, 0.4),
    base: ViewAugment | None = None,
    asymmetric: bool = False,
) -> MultiCrop:
    """Two global crops + `num_local` local crops (SwAV arXiv:2006.09882, DINO
    arXiv:2104.14294). The scales are DINO's (SwAV uses 0.14-1 and 0.05-0.14).

    Args:
        global_size: Output size of the global crops (None: the input size).
        local_size: Output size of the local crops.
        base: The photometric pipeline (default `simclr_view()`).
        asymmetric: DINO's blur/solarize split on the two global views (`byol_pair`);
            otherwise both globals use `base` (SwAV).
    """
    base = base or simclr_view()
    global_base = replace(base, size=global_size, crop_scale=global_scale)
    pair = byol_pair(global_base) if asymmetric else (global_base, global_base)
    local = replace(base, size=local_size, crop_scale=local_scale)
    return MultiCrop(global_views=pair, local_view=local, num_local=num_local)


def make_views(
    augment: ViewAugment | MultiCrop,
    images: Tensor,
    generator: torch.Generator | None = None,
    *,
    count: int = 2,
) -> list[Tensor]:
    """The views a method trains on: a `MultiCrop`'s list, or `count` independent views
    from a single-view augment (what two-view methods do with `ViewAugment`)."""
    if isinstance(augment, MultiCrop):
        return augment(images, generator)
    return [augment(images, generator) for _ in range(count)]
