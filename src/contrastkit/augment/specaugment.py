"""SpecAugment time and frequency masking (Park et al. 2019, arXiv:1904.08779), batched.

Each sample draws its own masks: for each of `time_masks` masks a width
``w ~ U{0, ..., time_mask_width}`` and a start ``t0 ~ U{0, ..., T - w}``; frames
``t0 <= t < t0 + w`` are set to `fill`. Frequency masks do the same over the mel bands.
Masks may overlap. Time warping (the paper's third policy) is not done.
"""

from __future__ import annotations

import torch
from torch import Tensor


def _band_mask(
    batch: int,
    size: int,
    count: int,
    max_width: int,
    generator: torch.Generator | None,
    device: torch.device,
) -> Tensor:
    """(batch, size) bool: True inside any of `count` random bands per row."""
    if count == 0 or max_width == 0:
        return torch.zeros(batch, size, dtype=torch.bool, device=device)
    max_width = min(max_width, size)
    u = torch.rand(2, batch, count, generator=generator, device=device)
    width = torch.floor(u[0] * (max_width + 1)).long()  # (B, K) in [0, max_width]
    start = torch.floor(u[1] * (size - width + 1)).long()  # (B, K) in [0, size - width]
    pos = torch.arange(size, device=device)  # (S,)
    inside = (pos >= start[..., None]) & (pos < (start + width)[..., None])  # (B, K, S)
    return inside.any(dim=1)


class SpecAugment:
    """Random per-sample time and frequency masks on spectrograms.

    Args:
        time_masks: Masks along time per sample.
        time_mask_width: Largest time mask, in frames (the paper's T).
        freq_masks: Masks along frequency per sample.
        freq_mask_width: Largest frequency mask, in bands (the paper's F).
        fill: Value written into masked cells (0 for standardised log-mels).

    Shape:
        input (B, M, T) or (B, 1, M, T) -> same shape; a new tensor, input untouched.
    """

    def __init__(
        self,
        *,
        time_masks: int = 2,
        time_mask_width: int = 12,
        freq_masks: int = 2,
        freq_mask_width: int = 8,
        fill: float = 0.0,
    ) -> None:
        if min(time_masks, time_mask_width, freq_masks, freq_mask_width) < 0:
            raise ValueError(
                "mask counts and widths must be >= 0, got "
                f"{time_masks}, {time_mask_width}, {freq_masks}, {freq_mask_width}"
            )
        self.time_masks, self.time_mask_width = time_masks, time_mask_width
        self.freq_masks, self.freq_mask_width = freq_masks, freq_mask_width
        self.fill = fill

    def __call__(self, spec: Tensor, generator: torch.Generator | None = None) -> Tensor:
        if spec.ndim not in (3, 4) or (spec.ndim == 4 and spec.shape[1] != 1):
            raise ValueError(f"expected (B, M, T) or (B, 1, M, T), got {tuple(spec.shape)}")
        b, m, t = spec.shape[0], spec.shape[-2], spec.shape[-1]
        time = _band_mask(b, t, self.time_masks, self.time_mask_width, generator, spec.device)
        freq = _band_mask(b, m, self.freq_masks, self.freq_mask_width, generator, spec.device)
        masked = freq[:, :, None] | time[:, None, :]  # (B, M, T)
        if spec.ndim == 4:
            masked = masked[:, None]  # (B, 1, M, T)
        return spec.float().masked_fill(masked, self.fill)
