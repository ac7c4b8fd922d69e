"""Build the view augmentation from the config."""

from __future__ import annotations

from contrastkit.augment.image import ViewAugment
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
