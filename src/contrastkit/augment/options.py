"""Options of the view augmentations."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from contrastkit.options import Strict


def check_range(
    value: tuple[float, float], *, low: float, high: float, low_open: bool
) -> tuple[float, float]:
    """`value` when it is an ordered (low, high) pair inside [`low`, `high`] (`low`
    excluded when `low_open`), else a pydantic error saying the allowed range."""
    a, b = value
    above = a > low if low_open else a >= low
    if not (math.isfinite(a) and math.isfinite(b) and above and a <= b <= high):
        bound = "<" if low_open else "<="
        top = "" if math.isinf(high) else f" <= {high:g}"
        raise PydanticCustomError(
            "range",
            "expected [low, high] with {lo} {bound} low <= high{top}",
            {"lo": f"{low:g}", "bound": bound, "top": top},
        )
    return value


_CROP_FLIP_LIGHT: dict[str, object] = {
    "crop_scale": (0.2, 1.0),
    "hflip_prob": 0.5,
    "jitter_prob": 0.8,
    "brightness": 0.4,
    "contrast": 0.4,
    "rotation_deg": 0.0,
    "noise_std": 0.0,
}
"""What the colour and the grey views share: crops of 20-100%, flips, brightness and contrast
jitter 0.4 with probability 0.8, none of the digits' rotation and noise."""

COLOUR_VIEWS: dict[str, object] = {
    **_CROP_FLIP_LIGHT,
    "saturation": 0.4,
    "hue": 0.1,
    "grayscale_prob": 0.2,
}
"""The views of SimCLR's ImageNet recipe (crops of 20-100%, flips, colour jitter 0.4/0.4/0.4/0.1
with probability 0.8, grey with 0.2, blur), chosen for colour images when a config sets no
`augment` key: the section's defaults are the digits' (rotation and noise, no flips, no
colour), which leave a colour photo's colour as the easiest cue to match views by."""

GREY_VIEWS: dict[str, object] = {**_CROP_FLIP_LIGHT, "blur_prob": 0.0}
"""The views of `configs/fashion_simclr.yaml`, chosen for grey images larger than the digits
when a config sets no `augment` key: crops of 20-100%, flips, brightness and contrast jitter
0.4 with probability 0.8, no blur. Without the jitter the two views of an image share their
intensity histogram and SimCLR matches them by it: on 10,000 Fashion-MNIST images, 4 epochs
of resnet_small, kNN 72.7 with the digits' defaults and 78.0 with these views."""


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
    size: int | None = Field(None, ge=2, le=4096)
    jitter_prob: float = Field(0.0, ge=0.0, le=1.0)
    brightness: float = Field(0.0, ge=0.0)
    contrast: float = Field(0.0, ge=0.0)
    saturation: float = Field(0.0, ge=0.0)
    hue: float = Field(0.0, ge=0.0, le=0.5)
    grayscale_prob: float = Field(0.0, ge=0.0, le=1.0)
    solarize_prob: float = Field(0.0, ge=0.0, le=1.0)
    views: Literal["single", "pair", "multicrop"] = "single"
    asymmetric: bool = False
    local_crops: int = Field(6, ge=1, le=64)
    local_size: int | None = Field(None, ge=2, le=4096)
    local_crop_scale: tuple[float, float] = (0.05, 0.4)
    corruption: Literal["scarf", "vime"] = "scarf"
    corruption_rate: float = Field(0.6, gt=0.0, lt=1.0)

    @field_validator("crop_scale", "local_crop_scale")
    @classmethod
    def _area_fraction(cls, value: tuple[float, float]) -> tuple[float, float]:
        return check_range(value, low=0.0, high=1.0, low_open=True)

    @field_validator("crop_ratio")
    @classmethod
    def _aspect_ratio(cls, value: tuple[float, float]) -> tuple[float, float]:
        return check_range(value, low=0.0, high=math.inf, low_open=True)

    @field_validator("blur_sigma")
    @classmethod
    def _sigma(cls, value: tuple[float, float]) -> tuple[float, float]:
        return check_range(value, low=0.0, high=math.inf, low_open=False)
