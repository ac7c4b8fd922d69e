"""Per-sample colour operations on batches of float images in [0, 1].

Each function takes the whole batch and one parameter per sample, so a batch of views is
one set of tensor operations. The formulas follow torchvision's functional transforms
(the ones the SimCLR, BYOL and DINO papers used through torchvision):

- brightness:  x' = clip(b * x)
- contrast:    x' = clip(c * x + (1 - c) * mean(gray(x)))      (mean over the image)
- saturation:  x' = clip(s * x + (1 - s) * gray(x))
- hue:         shift the hue channel of HSV by h (in turns, h in [-0.5, 0.5])
- grayscale:   gray(x) = 0.299 R + 0.587 G + 0.114 B, repeated on the 3 channels
- solarize:    x' = 1 - x where x >= threshold

Saturation, hue and grayscale need 3 (RGB) channels; on 1-channel images they are the
identity (a grey image has no saturation or hue).
"""

from __future__ import annotations

import torch
from torch import Tensor

_GRAY_WEIGHTS = (0.299, 0.587, 0.114)


def _check(images: Tensor, factor: Tensor, name: str) -> None:
    if images.ndim != 4:
        raise ValueError(f"images must be (B, C, H, W), got shape {tuple(images.shape)}")
    if factor.shape != (images.shape[0],):
        raise ValueError(
            f"{name} must be (B,) = ({images.shape[0]},), got shape {tuple(factor.shape)}"
        )


def _per_sample(factor: Tensor, images: Tensor) -> Tensor:
    return factor.to(images.dtype).view(-1, 1, 1, 1)  # (B, 1, 1, 1)


def gray(images: Tensor) -> Tensor:
    """Luma of RGB images (ITU-R 601-2); 1-channel images are returned as they are.

    Args:
        images: Shape: (B, C, H, W) with C in {1, 3}.

    Returns:
        Shape: (B, 1, H, W).
    """
    if images.shape[1] == 1:
        return images
    if images.shape[1] != 3:
        raise ValueError(f"expected 1 or 3 channels, got shape {tuple(images.shape)}")
    r, g, b = images.unbind(dim=1)
    wr, wg, wb = _GRAY_WEIGHTS
    return (wr * r + wg * g + wb * b).unsqueeze(1)


def adjust_brightness(images: Tensor, factor: Tensor) -> Tensor:
    """x' = clip(factor * x). images: Shape: (B, C, H, W); factor: Shape: (B,), >= 0."""
    _check(images, factor, "factor")
    return (images * _per_sample(factor, images)).clamp(0.0, 1.0)


def adjust_contrast(images: Tensor, factor: Tensor) -> Tensor:
    """x' = clip(factor * x + (1 - factor) * mean of the grey image), per sample.

    Args:
        images: Shape: (B, C, H, W).
        factor: Shape: (B,); 1 is the identity, 0 a flat grey image.
    """
    _check(images, factor, "factor")
    mean = gray(images).mean(dim=(1, 2, 3), keepdim=True)  # (B, 1, 1, 1)
    f = _per_sample(factor, images)
    return (f * images + (1 - f) * mean).clamp(0.0, 1.0)


def adjust_saturation(images: Tensor, factor: Tensor) -> Tensor:
    """x' = clip(factor * x + (1 - factor) * gray(x)); identity on 1-channel images.

    Args:
        images: Shape: (B, C, H, W).
        factor: Shape: (B,); 1 is the identity, 0 the grey image.
    """
    _check(images, factor, "factor")
    if images.shape[1] == 1:
        return images
    f = _per_sample(factor, images)
    return (f * images + (1 - f) * gray(images)).clamp(0.0, 1.0)


def rgb_to_hsv(images: Tensor) -> Tensor:
    """RGB in [0, 1] -> HSV with hue in turns [0, 1). Shape: (B, 3, H, W) -> (B, 3, H, W)."""
    r, g, b = images.unbind(dim=1)
    maxc = images.amax(dim=1)
    minc = images.amin(dim=1)
    delta = maxc - minc
    gray_pixel = delta == 0
    safe = torch.where(gray_pixel, torch.ones_like(delta), delta)
    sat = torch.where(maxc > 0, delta / torch.where(maxc > 0, maxc, torch.ones_like(maxc)), 0.0)
    rc, gc, bc = (maxc - r) / safe, (maxc - g) / safe, (maxc - b) / safe
    hue = torch.where(maxc == r, bc - gc, torch.where(maxc == g, 2.0 + rc - bc, 4.0 + gc - rc))
    hue = torch.where(gray_pixel, torch.zeros_like(hue), (hue / 6.0) % 1.0)
    return torch.stack([hue, sat, maxc], dim=1)


def hsv_to_rgb(images: Tensor) -> Tensor:
    """HSV (hue in turns) -> RGB. Shape: (B, 3, H, W) -> (B, 3, H, W)."""
    h, s, v = images.unbind(dim=1)
    h6 = h * 6.0
    sector = torch.floor(h6)
    f = h6 - sector
    sector = sector.long() % 6  # (B, H, W) in 0..5
    p = v * (1 - s)
    q = v * (1 - s * f)
    t = v * (1 - s * (1 - f))
    # The (r, g, b) of each of the six hue sectors, selected per pixel.
    table = torch.stack(
        [
            torch.stack([v, t, p], dim=1),
            torch.stack([q, v, p], dim=1),
            torch.stack([p, v, t], dim=1),
            torch.stack([p, q, v], dim=1),
            torch.stack([t, p, v], dim=1),
            torch.stack([v, p, q], dim=1),
        ],
        dim=1,
    )  # (B, 6, 3, H, W)
    index = sector[:, None, None].expand(-1, 1, 3, -1, -1)  # (B, 1, 3, H, W)
    return table.gather(1, index).squeeze(1)


def adjust_hue(images: Tensor, shift: Tensor) -> Tensor:
    """Rotate the hue by `shift` turns; identity on 1-channel images.

    Args:
        images: Shape: (B, C, H, W).
        shift: Shape: (B,), in [-0.5, 0.5] (0.5 is half way round the colour circle).
    """
    _check(images, shift, "shift")
    if images.shape[1] == 1:
        return images
    hsv = rgb_to_hsv(images)
    hue = (hsv[:, 0] + shift.to(images.dtype).view(-1, 1, 1)) % 1.0
    return hsv_to_rgb(torch.stack([hue, hsv[:, 1], hsv[:, 2]], dim=1))


def to_grayscale(images: Tensor, apply: Tensor) -> Tensor:
    """Replace the images where `apply` is True by their grey image on every channel.

    Args:
        images: Shape: (B, C, H, W).
        apply: Shape: (B,), bool.
    """
    _check(images, apply, "apply")
    if images.shape[1] == 1:
        return images
    return torch.where(apply.view(-1, 1, 1, 1), gray(images).expand_as(images), images)


def solarize(images: Tensor, apply: Tensor, threshold: float = 0.5) -> Tensor:
    """x' = 1 - x for the pixels >= `threshold` of the images where `apply` is True.

    Args:
        images: Shape: (B, C, H, W), float in [0, 1].
        apply: Shape: (B,), bool.
    """
    _check(images, apply, "apply")
    flipped = torch.where(images >= threshold, 1.0 - images, images)
    return torch.where(apply.view(-1, 1, 1, 1), flipped, images)


def color_jitter(images: Tensor, factors: Tensor, apply: Tensor) -> Tensor:
    """Brightness, contrast, saturation, then hue, each with its own per-sample factor.

    The order is fixed (torchvision draws a random order per image; a fixed order keeps
    the batch one set of operations). Samples where `apply` is False are returned as
    they are.

    Args:
        images: Shape: (B, C, H, W), float in [0, 1].
        factors: Shape: (B, 4): brightness, contrast, saturation factors and hue shift.
        apply: Shape: (B,), bool.
    """
    if factors.ndim != 2 or factors.shape != (images.shape[0], 4):
        raise ValueError(f"factors must be (B, 4), got shape {tuple(factors.shape)}")
    out = adjust_brightness(images, factors[:, 0])
    out = adjust_contrast(out, factors[:, 1])
    out = adjust_saturation(out, factors[:, 2])
    if bool((factors[:, 3] != 0).any()):
        out = adjust_hue(out, factors[:, 3])
    return torch.where(apply.view(-1, 1, 1, 1), out, images)
