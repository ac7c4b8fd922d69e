"""SpecAugment: per-sample masks, their sizes and statistics, shapes and determinism."""

from __future__ import annotations

import pytest
import torch

from contrastkit.augment.specaugment import SpecAugment


def _masked(aug: SpecAugment, shape: tuple[int, ...], seed: int = 0) -> torch.Tensor:
    x = torch.ones(shape)
    return aug(x, torch.Generator().manual_seed(seed)) == 0.0


def test_one_time_mask_is_one_band_of_expected_width() -> None:
    b, m, t, w = 4000, 8, 50, 10
    masked = _masked(SpecAugment(time_masks=1, time_mask_width=w, freq_masks=0), (b, m, t))
    assert torch.equal(masked, masked[:, :1].expand(-1, m, -1))  # whole columns: time only
    cols = masked[:, 0].long()  # (B, T)
    widths = cols.sum(dim=1)
    assert int(widths.max()) <= w
    # each band is contiguous: one rising edge at most
    edges = (cols[:, 1:] - cols[:, :-1] == 1).sum(dim=1) + cols[:, 0]
    assert int(edges.max()) <= 1
    # width ~ U{0..w}: mean w / 2, every width occurs
    assert float(widths.float().mean()) == pytest.approx(w / 2, abs=0.15)
    assert set(widths.tolist()) == set(range(w + 1))
    # start ~ U{0..T-w}: every frame can be masked, and the middle more often than the ends
    frame_rate = cols.float().mean(dim=0)
    assert float(frame_rate.min()) > 0.0
    assert float(frame_rate[t // 2]) > float(frame_rate[0])


def test_time_and_frequency_masks_are_independent() -> None:
    aug = SpecAugment(time_masks=1, time_mask_width=10, freq_masks=1, freq_mask_width=8)
    b, m, t = 4000, 16, 40
    masked = _masked(aug, (b, 1, m, t))
    assert masked.shape == (b, 1, m, t)
    p_time = (10 / 2) / t
    p_freq = (8 / 2) / m
    want = 1 - (1 - p_time) * (1 - p_freq)
    assert float(masked.float().mean()) == pytest.approx(want, abs=0.01)


def test_samples_draw_their_own_masks_and_generator_repeats() -> None:
    aug = SpecAugment(time_masks=2, time_mask_width=12, freq_masks=2, freq_mask_width=8)
    a = _masked(aug, (64, 32, 60), seed=3)
    assert len({tuple(row.flatten().tolist()) for row in a}) > 50
    assert torch.equal(a, _masked(aug, (64, 32, 60), seed=3))
    x = torch.randn(3, 8, 20)
    before = x.clone()
    aug(x, torch.Generator().manual_seed(0))
    assert torch.equal(x, before)  # input untouched


def test_zero_masks_is_identity_and_bad_input() -> None:
    x = torch.randn(2, 8, 20)
    assert torch.equal(SpecAugment(time_masks=0, freq_masks=0)(x), x)
    with pytest.raises(ValueError, match=r"\(B, M, T\)"):
        SpecAugment()(torch.randn(2, 3, 8, 20))
    with pytest.raises(ValueError, match=">= 0"):
        SpecAugment(time_masks=-1)
