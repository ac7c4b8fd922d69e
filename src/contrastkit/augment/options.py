"""Options of the view augmentations."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from contrastkit.options import Strict


class AugmentConfig(Strict):
    """Per-sample random image views (see `contrastkit.augment.image` and `.views`).

    `views`: "single" gives the method one view augment that it calls per view; "pair"
    gives two views per image (BYOL's blur/solarize split when `asymmetric`); "multicrop"
    gives two global crops at `size` plus `local_crops` crops at `local_size` (default half
    the global size) drawn from `local_crop_scale` (DINO's split on the globals when
    `asymmetric`). Table rows: `corruption` ("scarf": replace a `corruption_rate` share of
    a row's cells by values of the same column in random training rows; "vime": each cell
    with probability `corruption_rate`, from another row of the batch; see
    `contrastkit.augment.tabular`).
    """

    crop_scale: tuple[float, float] = (0.5, 1.0)
    crop_ratio: tuple[float, float] = (0.75, 1.3333)
    rotation_deg: float = Field(15.0, ge=0.0, le=180.0)
    blur_prob: float = Field(0.5, ge=0.0, le=1.0)
    blur_sigma: tuple[float, float] = (0.1, 1.0)
    noise_std: float = Field(0.1, ge=0.0)
    hflip_prob: float = Field(0.0, ge=0.0, le=1.0)
    size: int | None = Field(None, ge=1)
    jitter_prob: float = Field(0.0, ge=0.0, le=1.0)
    brightness: float = Field(0.0, ge=0.0)
    contrast: float = Field(0.0, ge=0.0)
    saturation: float = Field(0.0, ge=0.0)
    hue: float = Field(0.0, ge=0.0, le=0.5)
    grayscale_prob: float = Field(0.0, ge=0.0, le=1.0)
    solarize_prob: float = Field(0.0, ge=0.0, le=1.0)
    views: Literal["single", "pair", "multicrop"] = "single"
    asymmetric: bool = False
    local_crops: int = Field(6, ge=1)
    local_size: int | None = Field(None, ge=1)
    local_crop_scale: tuple[float, float] = (0.05, 0.4)
    corruption: Literal["scarf", "vime"] = "scarf"
    corruption_rate: float = Field(0.6, gt=0.0, lt=1.0)
