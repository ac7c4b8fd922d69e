"""Build the view augmentation from the config."""

from __future__ import annotations

from torch import Tensor

from contrastkit.augment.image import ViewAugment
from contrastkit.augment.tabular import ScarfCorruption, VimeCorruption
from contrastkit.config import AugmentConfig


def build_augment(cfg: AugmentConfig) -> ViewAugment:
    return ViewAugment(
        crop_scale=cfg.crop_scale,
        crop_ratio=cfg.crop_ratio,
        rotation_deg=cfg.rotation_deg,
        blur_prob=cfg.blur_prob,
        blur_sigma=cfg.blur_sigma,
        noise_std=cfg.noise_std,
        hflip_prob=cfg.hflip_prob,
    )


def build_table_augment(
    cfg: AugmentConfig, pool_numeric: Tensor, pool_codes: Tensor
) -> ScarfCorruption | VimeCorruption:
    """SCARF (replacement values drawn from the pool: the training rows) or VIME corruption."""
    if cfg.corruption == "scarf":
        return ScarfCorruption(pool_numeric, pool_codes, rate=cfg.corruption_rate)
    return VimeCorruption(rate=cfg.corruption_rate)
