"""Build the view augmentation from the config."""

from __future__ import annotations

from dataclasses import fields, replace

from torch import Tensor

from contrastkit.augment.image import ViewAugment
from contrastkit.augment.options import AugmentConfig
from contrastkit.augment.tabular import ScarfCorruption, VimeCorruption
from contrastkit.augment.views import MultiCrop, byol_pair

_VIEW_SETTINGS = tuple(f.name for f in fields(ViewAugment) if f.name in AugmentConfig.model_fields)
"""The `ViewAugment` settings an `augment:` section sets."""


def build_augment(cfg: AugmentConfig) -> ViewAugment:
    """The single-view augment of the config (what evaluation and SimCLR use): every
    `ViewAugment` setting the section has, under the same name (`solarize_threshold`, which
    it has not, keeps its default)."""
    return ViewAugment(**{name: getattr(cfg, name) for name in _VIEW_SETTINGS})


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
