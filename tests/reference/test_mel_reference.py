"""The log-mel front end (`torch.stft` + mel filter bank) against a slow, obvious NumPy
version: explicit DFT sums per frame, the HTK mel formula and triangles built by loops."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from contrastkit.audio.mel import LogMel, mel_filterbank


def slow_mel_filterbank(n_freqs: int, n_mels: int, sample_rate: int) -> np.ndarray:
    def to_mel(f: float) -> float:
        return 2595.0 * math.log10(1.0 + f / 700.0)

    def to_hz(m: float) -> float:
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)

    top = to_mel(sample_rate / 2.0)
    points = [to_hz(top * i / (n_mels + 1)) for i in range(n_mels + 2)]
    fb = np.zeros((n_freqs, n_mels))
    for k in range(n_freqs):
        f = k * (sample_rate / 2.0) / (n_freqs - 1)
        for m in range(n_mels):
            lo, mid, hi = points[m], points[m + 1], points[m + 2]
            if lo <= f <= mid:
                fb[k, m] = (f - lo) / (mid - lo)
            elif mid < f <= hi:
                fb[k, m] = (hi - f) / (hi - mid)
    return fb


def slow_log_mel(x: np.ndarray, sample_rate: int, n_fft: int, hop: int, n_mels: int) -> np.ndarray:
    """Centred frames with reflect padding, periodic Hann window, |DFT|^2, mel, log."""
    padded = np.pad(x, n_fft // 2, mode="reflect")
    window = np.array([0.5 - 0.5 * math.cos(2 * math.pi * n / n_fft) for n in range(n_fft)])
    n_frames = 1 + len(x) // hop
    n_freqs = n_fft // 2 + 1
    power = np.zeros((n_freqs, n_frames))
    n = np.arange(n_fft)
    for t in range(n_frames):
        frame = padded[t * hop : t * hop + n_fft] * window
        for k in range(n_freqs):
            re = np.sum(frame * np.cos(2 * np.pi * k * n / n_fft))
            im = -np.sum(frame * np.sin(2 * np.pi * k * n / n_fft))
            power[k, t] = re * re + im * im
    fb = slow_mel_filterbank(n_freqs, n_mels, sample_rate)
    return np.log(fb.T @ power + 1e-6)


def test_filterbank_matches_loops() -> None:
    fb = mel_filterbank(n_freqs=201, n_mels=40, sample_rate=16000).double().numpy()
    np.testing.assert_allclose(fb, slow_mel_filterbank(201, 40, 16000), atol=1e-5)  # float32


@pytest.mark.parametrize("n_fft,hop,n_mels", [(400, 160, 64), (256, 100, 24)])
def test_log_mel_matches_numpy_dft(n_fft: int, hop: int, n_mels: int) -> None:
    rng = np.random.default_rng(0)
    sr = 16000
    t = np.arange(2400) / sr
    x = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(t.size)
    ours = LogMel(sample_rate=sr, n_fft=n_fft, hop_length=hop, n_mels=n_mels).double()
    got = ours(torch.from_numpy(x)[None].double())[0].numpy()
    want = slow_log_mel(x, sr, n_fft, hop, n_mels)
    assert got.shape == want.shape == (n_mels, 1 + len(x) // hop)
    # float32 STFT vs float64 sums; compare where the band holds energy (log of tiny is noisy)
    live = want > math.log(1e-4)
    assert live.mean() > 0.5
    np.testing.assert_allclose(got[live], want[live], atol=2e-3)
