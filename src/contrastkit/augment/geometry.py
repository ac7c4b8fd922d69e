"""Random resized crop, rotation and horizontal flip as one per-sample affine warp.

Each sample draws a crop covering a fraction `s ~ U(scale)` of the image area with aspect
ratio `r ~ logU(ratio)`, placed uniformly inside the image, rotated by
`U(-rotation_deg, rotation_deg)` and mirrored with probability `hflip_prob`. The warp
samples the crop bilinearly at the output size in one `F.grid_sample` call, so a batch of
crops (with any output size) costs one pass over the batch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import torch
import torch.nn.functional as F
from torch import Tensor


def uniform(
    n: int, low: float, high: float, gen: torch.Generator | None, device: torch.device
) -> Tensor:
    """`n` draws from U(low, high), float32, shape (n,)."""
    return torch.rand(n, generator=gen, device=device) * (high - low) + low


@dataclass(frozen=True)
class CropParams:
    """Per-sample crop parameters, in normalised image coordinates ([-1, 1] across the image).

    Attributes:
        area: Shape: (n,); drawn fraction of the image area (before clamping to the image).
        aspect: Shape: (n,); drawn width / height of the crop.
        width: Shape: (n,); crop width as a fraction of the image width, <= 1.
        height: Shape: (n,); crop height as a fraction of the image height, <= 1.
        center_x: Shape: (n,); crop centre, |center_x| <= 1 - width.
        center_y: Shape: (n,); crop centre, |center_y| <= 1 - height.
        angle: Shape: (n,); rotation in radians.
        flip: Shape: (n,), bool; mirrored left-right.
    """

    area: Tensor
    aspect: Tensor
    width: Tensor
    height: Tensor
    center_x: Tensor
    center_y: Tensor
    angle: Tensor
    flip: Tensor

    def take(self, rows: slice) -> CropParams:
        """The parameters of samples `rows`."""
        return CropParams(*(getattr(self, f.name)[rows] for f in fields(self)))


def sample_crops(
    n: int,
    *,
    scale: tuple[float, float],
    ratio: tuple[float, float],
    rotation_deg: float,
    hflip_prob: float,
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
) -> CropParams:
    """Draw `n` crops (see the module docstring)."""
    device = torch.device(device)
    area = uniform(n, scale[0], scale[1], generator, device)
    log_ratio = uniform(n, math.log(ratio[0]), math.log(ratio[1]), generator, device)
    aspect = torch.exp(log_ratio)
    width = torch.sqrt(area * aspect).clamp(max=1.0)
    height = torch.sqrt(area / aspect).clamp(max=1.0)
    center_x = (torch.rand(n, generator=generator, device=device) * 2 - 1) * (1 - width)
    center_y = (torch.rand(n, generator=generator, device=device) * 2 - 1) * (1 - height)
    angle = uniform(n, -rotation_deg, rotation_deg, generator, device) * (math.pi / 180.0)
    flip = torch.rand(n, generator=generator, device=device) < hflip_prob
    return CropParams(area, aspect, width, height, center_x, center_y, angle, flip)


def crop_matrices(crops: CropParams) -> Tensor:
    """Affine matrices for `F.affine_grid` (output coords -> input coords).

    Returns:
        Shape: (n, 2, 3).
    """
    n = crops.area.shape[0]
    sign_x = torch.where(crops.flip, -1.0, 1.0)
    cos, sin = torch.cos(crops.angle), torch.sin(crops.angle)
    theta = torch.zeros(n, 2, 3, device=crops.area.device)
    theta[:, 0, 0] = crops.width * cos * sign_x
    theta[:, 0, 1] = -crops.height * sin
    theta[:, 1, 0] = crops.width * sin * sign_x
    theta[:, 1, 1] = crops.height * cos
    theta[:, 0, 2] = crops.center_x
    theta[:, 1, 2] = crops.center_y
    return theta


def affine_warp(images: Tensor, theta: Tensor, size: tuple[int, int] | None = None) -> Tensor:
    """Warp each image with its own affine matrix (bilinear, zeros outside).

    Args:
        images: Shape: (B, C, H, W), float.
        theta: Shape: (B, 2, 3), output coords -> input coords (`F.affine_grid`).
        size: Output (height, width); the input size when None.

    Returns:
        Shape: (B, C, *size).
    """
    if theta.shape != (images.shape[0], 2, 3):
        raise ValueError(
            f"theta must be (B, 2, 3) with B = {images.shape[0]}, got {tuple(theta.shape)}"
        )
    b, c, h, w = images.shape
    out_h, out_w = size if size is not None else (h, w)
    grid = F.affine_grid(theta.to(images.dtype), [b, c, out_h, out_w], align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
