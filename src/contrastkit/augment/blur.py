"""Per-sample Gaussian blur of a batch as two grouped 1-D convolutions."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor


def gaussian_kernels(sigma: Tensor, radius: int, dtype: torch.dtype) -> Tensor:
    """Normalised 1-D Gaussian kernels exp(-t^2 / (2 sigma^2)) on t = -radius..radius.

    sigma <= 0 gives the identity kernel (1 at t = 0).

    Args:
        sigma: Shape: (B,), in pixels.

    Returns:
        Shape: (B, 2 * radius + 1).
    """
    offsets = torch.arange(-radius, radius + 1, device=sigma.device, dtype=dtype)
    safe_sigma = sigma.clamp(min=1e-3).to(dtype)[:, None]
    kernel = torch.exp(-0.5 * (offsets[None] / safe_sigma) ** 2)  # (B, K)
    kernel = torch.where((sigma > 0)[:, None], kernel, (offsets == 0).to(dtype)[None])
    return kernel / kernel.sum(dim=1, keepdim=True)


def gaussian_blur(images: Tensor, sigma: Tensor) -> Tensor:
    """Blur each image with its own isotropic Gaussian; sigma <= 0 leaves it unchanged.

    The kernel reaches 3 sigma (of the largest sigma in the batch); borders are padded by
    replicating the edge pixels.

    Args:
        images: Shape: (B, C, H, W), float.
        sigma: Shape: (B,), in pixels.
    """
    if sigma.shape != (images.shape[0],):
        raise ValueError(f"sigma must be (B,) = ({images.shape[0]},), got {tuple(sigma.shape)}")
    b, c, h, w = images.shape
    radius = max(1, int(math.ceil(3.0 * float(sigma.max()))))
    kernel = gaussian_kernels(sigma, radius, images.dtype)
    kernel = kernel.repeat_interleave(c, dim=0)  # (B*C, K): one kernel per image channel
    flat = images.reshape(1, b * c, h, w)
    padded = F.pad(flat, (radius, radius, radius, radius), mode="replicate")
    k = kernel.shape[1]
    out = F.conv2d(padded, kernel.view(b * c, 1, 1, k), groups=b * c)  # along width
    out = F.conv2d(out, kernel.view(b * c, 1, k, 1), groups=b * c)  # along height
    return out.view(b, c, h, w)
