"""Batched, per-sample random image views on torch tensors (runs wherever the batch is).

Every sample of a batch draws its own parameters; geometry (random resized crop, rotation,
horizontal flip) is one affine warp through `F.affine_grid` + `F.grid_sample`; blur is a
per-sample Gaussian applied as a grouped convolution; noise is additive Gaussian.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor


def to_float(images: Tensor) -> Tensor:
    """uint8 images in 0..255 -> float32 in [0, 1]; float input is returned as float32."""
    if images.dtype == torch.uint8:
        return images.float().div_(255.0)
    return images.float()


def _uniform(
    n: int, low: float, high: float, gen: torch.Generator | None, device: torch.device
) -> Tensor:
    return torch.rand(n, generator=gen, device=device) * (high - low) + low


def random_affine_matrices(
    n: int,
    *,
    scale: tuple[float, float],
    ratio: tuple[float, float],
    rotation_deg: float,
    hflip_prob: float,
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
) -> Tensor:
    """Per-sample affine matrices for `F.affine_grid` (output coords -> input coords).

    A crop covering a fraction `s ~ U(scale)` of the area with aspect `r ~ logU(ratio)` is
    placed uniformly inside the image, rotated by `U(-rotation_deg, rotation_deg)` and
    mirrored with probability `hflip_prob`.

    Returns:
        Shape: (n, 2, 3).
    """
    device = torch.device(device)
    area = _uniform(n, scale[0], scale[1], generator, device)
    log_ratio = _uniform(n, math.log(ratio[0]), math.log(ratio[1]), generator, device)
    aspect = torch.exp(log_ratio)
    width = torch.sqrt(area * aspect).clamp(max=1.0)  # fraction of the image width
    height = torch.sqrt(area / aspect).clamp(max=1.0)
    center_x = (torch.rand(n, generator=generator, device=device) * 2 - 1) * (1 - width)
    center_y = (torch.rand(n, generator=generator, device=device) * 2 - 1) * (1 - height)
    angle = _uniform(n, -rotation_deg, rotation_deg, generator, device) * (math.pi / 180.0)
    flip = torch.rand(n, generator=generator, device=device) < hflip_prob
    sign_x = torch.where(flip, -1.0, 1.0)
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.zeros(n, 2, 3, device=device)
    theta[:, 0, 0] = width * cos * sign_x
    theta[:, 0, 1] = -height * sin
    theta[:, 1, 0] = width * sin * sign_x
    theta[:, 1, 1] = height * cos
    theta[:, 0, 2] = center_x
    theta[:, 1, 2] = center_y
    return theta


def affine_warp(images: Tensor, theta: Tensor, size: tuple[int, int] | None = None) -> Tensor:
    """Warp each image with its own affine matrix (bilinear, zeros outside).

    Args:
        images: Shape: (B, C, H, W), float.
        theta: Shape: (B, 2, 3).
        size: Output (H', W'); None keeps (H, W) (multi-crop's small crops use it).

    Returns:
        Shape: (B, C, H', W').
    """
    b, c, h, w = images.shape
    out_h, out_w = size if size is not None else (h, w)
    grid = F.affine_grid(theta.to(images.dtype), [b, c, out_h, out_w], align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def gaussian_blur(images: Tensor, sigma: Tensor) -> Tensor:
    """Blur each image with its own isotropic Gaussian; sigma <= 0 leaves it unchanged.

    Args:
        images: Shape: (B, C, H, W), float.
        sigma: Shape: (B,), in pixels.
    """
    b, c, h, w = images.shape
    radius = max(1, int(math.ceil(3.0 * float(sigma.max()))))
    offsets = torch.arange(-radius, radius + 1, device=images.device, dtype=images.dtype)
    safe_sigma = sigma.clamp(min=1e-3).to(images.dtype)[:, None]
    kernel = torch.exp(-0.5 * (offsets[None] / safe_sigma) ** 2)  # (B, K)
    kernel = torch.where((sigma > 0)[:, None], kernel, (offsets == 0).to(images.dtype)[None])
    kernel = kernel / kernel.sum(dim=1, keepdim=True)
    kernel = kernel.repeat_interleave(c, dim=0)  # (B*C, K): one kernel per image channel
    flat = images.reshape(1, b * c, h, w)
    padded = F.pad(flat, (radius, radius, radius, radius), mode="replicate")
    k = kernel.shape[1]
    out = F.conv2d(padded, kernel.view(b * c, 1, 1, k), groups=b * c)  # along width
    out = F.conv2d(out, kernel.view(b * c, 1, k, 1), groups=b * c)  # along height
    return out.view(b, c, h, w)


@dataclass(frozen=True)
class ViewAugment:
    """SimCLR-style random views for small grey images (no flips for digits by default).

    Example:
        >>> aug = ViewAugment()
        >>> v1, v2 = aug(images), aug(images)   # two independent views, (B, C, H, W) float
    """

    crop_scale: tuple[float, float] = (0.5, 1.0)
    crop_ratio: tuple[float, float] = (0.75, 1.3333)
    rotation_deg: float = 15.0
    blur_prob: float = 0.5
    blur_sigma: tuple[float, float] = (0.1, 1.0)
    noise_std: float = 0.1
    hflip_prob: float = 0.0

    def __post_init__(self) -> None:
        lo, hi = self.crop_scale
        if not 0.0 < lo <= hi <= 1.0:
            raise ValueError(f"crop_scale must satisfy 0 < low <= high <= 1, got {self.crop_scale}")
        if not 0.0 < self.crop_ratio[0] <= self.crop_ratio[1]:
            raise ValueError(f"crop_ratio must satisfy 0 < low <= high, got {self.crop_ratio}")
        if not 0.0 <= self.blur_sigma[0] <= self.blur_sigma[1]:
            raise ValueError(f"blur_sigma must satisfy 0 <= low <= high, got {self.blur_sigma}")

    def __call__(
        self,
        images: Tensor,
        generator: torch.Generator | None = None,
        *,
        size: tuple[int, int] | None = None,
    ) -> Tensor:
        """One random view per image.

        Args:
            images: Shape: (B, C, H, W), uint8 (0..255) or float in [0, 1].
            generator: Optional source of randomness on the images' device.
            size: Output (H', W') of the crop; None keeps (H, W).

        Returns:
            Shape: (B, C, H', W'), float32.
        """
        if images.ndim != 4:
            raise ValueError(f"images must be (B, C, H, W), got shape {tuple(images.shape)}")
        x = to_float(images)
        b, device = x.shape[0], x.device
        theta = random_affine_matrices(
            b,
            scale=self.crop_scale,
            ratio=self.crop_ratio,
            rotation_deg=self.rotation_deg,
            hflip_prob=self.hflip_prob,
            generator=generator,
            device=device,
        )
        x = affine_warp(x, theta, size)
        if self.blur_prob > 0:
            sigma = _uniform(b, self.blur_sigma[0], self.blur_sigma[1], generator, device)
            apply = torch.rand(b, generator=generator, device=device) < self.blur_prob
            x = gaussian_blur(x, torch.where(apply, sigma, torch.zeros_like(sigma)))
        if self.noise_std > 0:
            x = x + self.noise_std * torch.randn(x.shape, generator=generator, device=device)
        return x
