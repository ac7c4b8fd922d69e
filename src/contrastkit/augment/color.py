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


def adjust_hue(images: Tensor, shift: Tensor) -> Tensor:
    """Rotate the HSV hue by `shift` turns; identity on 1-channel images.

    With V = max(R, G, B), D = V - min(R, G, B) and H the hue in sixths of a turn (in
    [0, 6)), each channel of the shifted pixel is V - D * clip(min(k, 4 - k), 0, 1) with
    k = (n + H + 6 * shift) mod 6 and n = 5, 3, 1 for R, G, B: the usual HSV -> RGB
    conversion written per channel, so saturation and value are kept exactly.

    Args:
        images: Shape: (B, C, H, W), float in [0, 1].
        shift: Shape: (B,), in [-0.5, 0.5] (0.5 is half way round the colour circle).
    """
    _check(images, shift, "shift")
    if images.shape[1] == 1:
        return images
    r, g, b = images.unbind(dim=1)  # (B, H, W) each
    value = images.amax(dim=1)
    delta = value - images.amin(dim=1)
    # Hue in sixths, (-1, 5]; grey pixels (delta = 0) get numerator 0, so hue 0.
    hue = torch.where(
        value == r,
        g - b,
        torch.where(value == g, (b - r).add_(delta, alpha=2.0), (r - g).add_(delta, alpha=4.0)),
    )
    hue.mul_(delta.clamp_min(1e-12).reciprocal_())
    hue.add_(6.0 * shift.to(images.dtype).view(-1, 1, 1))  # in (-4, 8]
    # n + 6 keeps n + hue > 0, so fmod (cheaper than remainder) gives (n + hue) mod 6.
    n = torch.tensor([11.0, 9.0, 7.0], dtype=images.dtype, device=images.device)
    k = torch.fmod(hue[:, None] + n.view(1, 3, 1, 1), 6.0)  # (B, 3, H, W)
    ramp = torch.minimum(k, 4.0 - k).clamp_(0.0, 1.0)
    return value[:, None] - ramp.mul_(delta[:, None])


def to_grayscale(images: Tensor, apply: Tensor, *, inplace: bool = False) -> Tensor:
    """Replace the images where `apply` is True by their grey image on every channel.

    Args:
        images: Shape: (B, C, H, W).
        apply: Shape: (B,), bool.
        inplace: Write the result into `images` (saves a copy of the batch).
    """
    _check(images, apply, "apply")
    chosen = apply.nonzero().flatten()
    if images.shape[1] == 1 or chosen.numel() == 0:
        return images
    grey = gray(images.index_select(0, chosen)).expand(-1, images.shape[1], -1, -1)
    target = images if inplace else images.clone()
    return target.index_copy_(0, chosen, grey.contiguous())


def solarize(images: Tensor, apply: Tensor, threshold: float = 0.5) -> Tensor:
    """x' = 1 - x for the pixels >= `threshold` of the images where `apply` is True.

    Args:
        images: Shape: (B, C, H, W), float in [0, 1].
        apply: Shape: (B,), bool.
    """
    _check(images, apply, "apply")
    flipped = torch.where(images >= threshold, 1.0 - images, images)
    return torch.where(apply.view(-1, 1, 1, 1), flipped, images)


def color_jitter(
    images: Tensor, factors: Tensor, apply: Tensor, *, inplace: bool = False
) -> Tensor:
    """Brightness, contrast, saturation, then hue, each with its own per-sample factor.

    The order is fixed (torchvision draws a random order per image; a fixed order keeps
    the batch one set of operations). Samples where `apply` is False are returned as
    they are.

    Args:
        images: Shape: (B, C, H, W), float in [0, 1].
        factors: Shape: (B, 4): brightness, contrast, saturation factors and hue shift.
        apply: Shape: (B,), bool.
        inplace: Write the result into `images` (saves a copy of the batch).
    """
    if factors.ndim != 2 or factors.shape != (images.shape[0], 4):
        raise ValueError(f"factors must be (B, 4), got shape {tuple(factors.shape)}")
    _check(images, apply, "apply")
    chosen = apply.nonzero().flatten()
    if chosen.numel() == 0:
        return images
    f = factors.index_select(0, chosen)
    out = adjust_brightness(images.index_select(0, chosen), f[:, 0])
    out = adjust_contrast(out, f[:, 1])
    out = adjust_saturation(out, f[:, 2])
    if bool((f[:, 3] != 0).any()):
        out = adjust_hue(out, f[:, 3])
    target = images if inplace else images.clone()
    return target.index_copy_(0, chosen, out)
