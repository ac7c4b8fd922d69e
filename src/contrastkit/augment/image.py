"""Batched, per-sample random image views on torch tensors (runs wherever the batch is).

One view of a batch is, in this order and each sample with its own random parameters:
random resized crop + rotation + horizontal flip (one affine warp, `geometry.py`, to the
output `size`), colour jitter (brightness, contrast, saturation, hue; `color.py`),
grayscale, Gaussian blur (`blur.py`), solarize, additive Gaussian noise. `ViewAugment.sample`
draws the parameters and `ViewAugment.apply` applies them, so a test can check the batch
against a per-image reference on the same parameters; calling the object does both.

Example:
    >>> aug = ViewAugment(size=32, jitter_prob=0.8, brightness=0.4, contrast=0.4,
    ...                   saturation=0.4, hue=0.1, grayscale_prob=0.2, hflip_prob=0.5)
    >>> v1, v2 = aug(images, gen), aug(images, gen)   # (B, C, 32, 32) each
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from contrastkit.augment.blur import gaussian_blur
from contrastkit.augment.color import color_jitter, solarize, to_grayscale
from contrastkit.augment.geometry import (
    CropParams,
    affine_warp,
    crop_matrices,
    sample_crops,
    uniform,
)

__all__ = [
    "ViewAugment",
    "ViewParams",
    "affine_warp",
    "gaussian_blur",
    "to_float",
]


def to_float(images: Tensor) -> Tensor:
    """uint8 images in 0..255 -> float32 in [0, 1]; float input is returned as float32."""
    if images.dtype == torch.uint8:
        return images.float().div_(255.0)
    return images.float()


CPU_CHUNK = 64
"""Images per piece when `ViewAugment.apply` runs on the CPU (cache-sized intermediates)."""


def _as_size(size: int | tuple[int, int] | None) -> tuple[int, int] | None:
    if size is None:
        return None
    return (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))


@dataclass(frozen=True)
class ViewParams:
    """The random parameters of one view of a batch of B images.

    Attributes:
        crops: The crop, rotation and flip of each sample.
        size: Output (height, width).
        jitter: Shape: (B, 4): brightness, contrast, saturation factors and hue shift;
            None when colour jitter is off.
        jitter_apply: Shape: (B,), bool, or None.
        grayscale: Shape: (B,), bool, or None.
        blur_sigma: Shape: (B,), pixels, 0 where the sample is not blurred; or None.
        solarize: Shape: (B,), bool, or None.
        noise: Shape: (B, C, *size), already scaled by the noise std; or None.
    """

    crops: CropParams
    size: tuple[int, int]
    jitter: Tensor | None
    jitter_apply: Tensor | None
    grayscale: Tensor | None
    blur_sigma: Tensor | None
    solarize: Tensor | None
    noise: Tensor | None

    def take(self, rows: slice) -> ViewParams:
        """The parameters of samples `rows`."""

        def part(t: Tensor | None) -> Tensor | None:
            return None if t is None else t[rows]

        return ViewParams(
            self.crops.take(rows),
            self.size,
            part(self.jitter),
            part(self.jitter_apply),
            part(self.grayscale),
            part(self.blur_sigma),
            part(self.solarize),
            part(self.noise),
        )


def _check_prob(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value}")


@dataclass(frozen=True)
class ViewAugment:
    """Random views of image batches with per-sample parameters (SimCLR-style pipeline).

    The defaults suit the 8x8 grey digits (no flips, no colour); `simclr_view` and
    `byol_views` in `contrastkit.augment.views` give the papers' settings for photos.

    Args:
        crop_scale: Range of the crop's fraction of the image area, 0 < low <= high <= 1.
        crop_ratio: Range of the crop's aspect ratio (drawn log-uniformly).
        rotation_deg: Rotation drawn from U(-rotation_deg, rotation_deg).
        blur_prob: Probability of a Gaussian blur.
        blur_sigma: Range of the blur's sigma, in output pixels.
        noise_std: Std of additive Gaussian noise (0 = none); the result is not clipped.
        hflip_prob: Probability of a horizontal flip.
        size: Output size (int or (height, width)); the input size when None.
        jitter_prob: Probability of colour jitter.
        brightness, contrast, saturation: Jitter strengths: factors ~ U(max(0, 1 - v), 1 + v).
        hue: Hue shift ~ U(-hue, hue) in turns, 0 <= hue <= 0.5.
        grayscale_prob: Probability of turning the view grey.
        solarize_prob: Probability of solarizing (pixels >= `solarize_threshold` -> 1 - x).
        solarize_threshold: In [0, 1].

    Views are float: uint8 input (0..255) becomes float32 in [0, 1]; float input (in
    [0, 1]) keeps its dtype. The device of the input is kept; pass a `generator` on that
    device for reproducible views.
    """

    crop_scale: tuple[float, float] = (0.5, 1.0)
    crop_ratio: tuple[float, float] = (0.75, 1.3333)
    rotation_deg: float = 15.0
    blur_prob: float = 0.5
    blur_sigma: tuple[float, float] = (0.1, 1.0)
    noise_std: float = 0.1
    hflip_prob: float = 0.0
    size: int | tuple[int, int] | None = None
    jitter_prob: float = 0.0
    brightness: float = 0.0
    contrast: float = 0.0
    saturation: float = 0.0
    hue: float = 0.0
    grayscale_prob: float = 0.0
    solarize_prob: float = 0.0
    solarize_threshold: float = 0.5

    def __post_init__(self) -> None:
        lo, hi = self.crop_scale
        if not 0.0 < lo <= hi <= 1.0:
            raise ValueError(f"crop_scale must satisfy 0 < low <= high <= 1, got {self.crop_scale}")
        if not 0.0 < self.crop_ratio[0] <= self.crop_ratio[1]:
            raise ValueError(f"crop_ratio must satisfy 0 < low <= high, got {self.crop_ratio}")
        if not 0.0 <= self.blur_sigma[0] <= self.blur_sigma[1]:
            raise ValueError(f"blur_sigma must satisfy 0 <= low <= high, got {self.blur_sigma}")
        for name in ("blur_prob", "hflip_prob", "jitter_prob", "grayscale_prob", "solarize_prob"):
            _check_prob(name, getattr(self, name))
        _check_prob("solarize_threshold", self.solarize_threshold)
        for name in ("rotation_deg", "noise_std", "brightness", "contrast", "saturation"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if not 0.0 <= self.hue <= 0.5:
            raise ValueError(f"hue must be in [0, 0.5], got {self.hue}")
        size = _as_size(self.size)
        if size is not None and min(size) < 1:
            raise ValueError(f"size must be >= 1, got {self.size}")

    def sample(
        self,
        shape: tuple[int, int, int, int],
        *,
        generator: torch.Generator | None = None,
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float32,
    ) -> ViewParams:
        """Draw the parameters of one view of a batch of images of `shape` (B, C, H, W)."""
        b, c, h, w = shape
        device = torch.device(device)
        size = _as_size(self.size) or (h, w)
        crops = sample_crops(
            b,
            scale=self.crop_scale,
            ratio=self.crop_ratio,
            rotation_deg=self.rotation_deg,
            hflip_prob=self.hflip_prob,
            generator=generator,
            device=device,
        )
        jitter = jitter_apply = grayscale = blur_sigma = solar = noise = None
        if self.jitter_prob > 0:
            jitter = torch.stack(
                [
                    uniform(b, max(0.0, 1 - v), 1 + v, generator, device)
                    for v in (self.brightness, self.contrast, self.saturation)
                ]
                + [uniform(b, -self.hue, self.hue, generator, device)],
                dim=1,
            )  # (B, 4)
            jitter_apply = torch.rand(b, generator=generator, device=device) < self.jitter_prob
        if self.grayscale_prob > 0:
            grayscale = torch.rand(b, generator=generator, device=device) < self.grayscale_prob
        if self.blur_prob > 0:
            sigma = uniform(b, self.blur_sigma[0], self.blur_sigma[1], generator, device)
            apply = torch.rand(b, generator=generator, device=device) < self.blur_prob
            blur_sigma = torch.where(apply, sigma, torch.zeros_like(sigma))
        if self.solarize_prob > 0:
            solar = torch.rand(b, generator=generator, device=device) < self.solarize_prob
        if self.noise_std > 0:
            noise = self.noise_std * torch.randn(
                (b, c, *size), generator=generator, device=device
            ).to(dtype)
        return ViewParams(crops, size, jitter, jitter_apply, grayscale, blur_sigma, solar, noise)

    def apply(self, images: Tensor, params: ViewParams) -> Tensor:
        """Apply drawn parameters to a batch.

        On the CPU the batch goes through in chunks of `CPU_CHUNK` images, so that the
        intermediate tensors stay in cache (every op is per sample, so the result is the
        same as in one piece); on other devices in one piece.

        Args:
            images: Shape: (B, C, H, W), uint8 (0..255) or float in [0, 1].
            params: From `sample` for this batch's shape.

        Returns:
            Shape: (B, C, *params.size); float32 for uint8 input, else the input dtype.
        """
        if images.ndim != 4:
            raise ValueError(f"images must be (B, C, H, W), got shape {tuple(images.shape)}")
        b = images.shape[0]
        chunk = CPU_CHUNK if images.device.type == "cpu" else b
        if b <= chunk:
            return self._apply(images, params)
        return torch.cat(
            [
                self._apply(images[i : i + chunk], params.take(slice(i, i + chunk)))
                for i in range(0, b, chunk)
            ]
        )

    def _apply(self, images: Tensor, params: ViewParams) -> Tensor:
        x = images.float().div_(255.0) if images.dtype == torch.uint8 else images
        x = affine_warp(x, crop_matrices(params.crops), params.size)  # a new tensor: ours
        if params.jitter is not None and params.jitter_apply is not None:
            x = color_jitter(x, params.jitter, params.jitter_apply, inplace=True)
        if params.grayscale is not None:
            x = to_grayscale(x, params.grayscale, inplace=True)
        if params.blur_sigma is not None:
            x = gaussian_blur(x, params.blur_sigma, inplace=True)
        if params.solarize is not None:
            x = solarize(x, params.solarize, self.solarize_threshold)
        if params.noise is not None:
            x = x + params.noise.to(x.dtype)
        return x

    def __call__(self, images: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """One random view per image: `apply(images, sample(...))`.

        Args:
            images: Shape: (B, C, H, W), uint8 (0..255) or float in [0, 1].
            generator: Optional source of randomness on the images' device.

        Returns:
            Shape: (B, C, *size), float (see the class docstring).
        """
        if images.ndim != 4:
            raise ValueError(f"images must be (B, C, H, W), got shape {tuple(images.shape)}")
        dtype = torch.float32 if images.dtype == torch.uint8 else images.dtype
        shape = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
        params = self.sample(shape, generator=generator, device=images.device, dtype=dtype)
        return self.apply(images, params)
