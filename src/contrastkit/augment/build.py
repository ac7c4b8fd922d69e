"""Build the view augmentation from the config."""

from __future__ import annotations

from dataclasses import replace

from torch import Tensor

from contrastkit.augment.image import ViewAugment
from contrastkit.augment.options import AugmentConfig
from contrastkit.augment.tabular import ScarfCorruption, VimeCorruption
from contrastkit.augment.views import MultiCrop, byol_pair


def build_augment(cfg: AugmentConfig) -> ViewAugment:
    """The single-view augment of the config (what evaluation and SimCLR use)."""
    return ViewAugment(
        crop_scale=cfg.crop_scale,
        crop_ratio=cfg.crop_ratio,
        rotation_deg=cfg.rotation_deg,
        blur_prob=cfg.blur_prob,
        blur_sigma=cfg.blur_sigma,
        noise_std=cfg.noise_std,
        hflip_prob=cfg.hflip_prob,
        size=cfg.size,
        jitter_prob=cfg.jitter_prob,
        brightness=cfg.brightness,
        contrast=cfg.contrast,
        saturation=cfg.saturation,
        hue=cfg.hue,
        grayscale_prob=cfg.grayscale_prob,
        solarize_prob=cfg.solarize_prob,
    )


def build_views(cfg: AugmentConfig, *, image_size: tuple[int, int]) -> ViewAugment | MultiCrop:
    """What the training loop hands to the method, by `cfg.views` (see `AugmentConfig`).

    Args:
        image_size: (height, width) of the training images; sets the default local size.
    """
    base = build_augment(cfg)
    if cfg.views == "single":
        return base
    pair = byol_pair(base) if cfg.asymmetric else (base, base)
    if cfg.views == "pair":
        return MultiCrop(global_views=pair)
    global_size = cfg.size or min(image_size)
    local_size = cfg.local_size or max(1, global_size // 2)
    local = replace(base, size=local_size, crop_scale=cfg.local_crop_scale)
    return MultiCrop(global_views=pair, local_view=local, num_local=cfg.local_crops)


def build_table_augment(
    cfg: AugmentConfig, pool_numeric: Tensor, pool_codes: Tensor
) -> ScarfCorruption | VimeCorruption:
    """SCARF (replacement values drawn from the pool: the training rows) or VIME corruption."""
    if cfg.corruption == "scarf":
        return ScarfCorruption(pool_numeric, pool_codes, rate=cfg.corruption_rate)
    return VimeCorruption(rate=cfg.corruption_rate)
