"""The log-mel front end: `torch.stft` power spectrogram, triangular mel filter bank, log.

Mel scale (HTK): ``mel(f) = 2595 * log10(1 + f / 700)``. Filter m is a triangle over the
FFT bin frequencies rising from mel point m to m + 1 and falling to m + 2, where the
``n_mels + 2`` points are evenly spaced in mel between ``f_min`` and ``f_max``
(no area normalisation, as torchaudio's ``melscale_fbanks(norm=None)``).

    logmel[m, t] = log(eps + sum_k fb[k, m] * |STFT(x)[k, t]|^2)
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn


def hz_to_mel(f: Tensor) -> Tensor:
    return 2595.0 * torch.log10(1.0 + f / 700.0)


def mel_to_hz(m: Tensor) -> Tensor:
    return 700.0 * (10.0 ** (m / 2595.0) - 1.0)


def mel_filterbank(
    *, n_freqs: int, n_mels: int, sample_rate: int, f_min: float = 0.0, f_max: float | None = None
) -> Tensor:
    """Triangular mel filters over the `n_freqs` bins of a one-sided spectrum.

    Returns:
        Shape: (n_freqs, n_mels), float32; column m is filter m.

    Raises:
        ValueError: on non-positive sizes or an empty frequency range.
    """
    f_max = sample_rate / 2.0 if f_max is None else f_max
    if n_freqs < 2 or n_mels < 1 or not 0.0 <= f_min < f_max <= sample_rate / 2.0:
        raise ValueError(
            f"need n_freqs >= 2, n_mels >= 1, 0 <= f_min < f_max <= sample_rate / 2; got "
            f"n_freqs={n_freqs}, n_mels={n_mels}, f_min={f_min}, f_max={f_max}, "
            f"sample_rate={sample_rate}"
        )
    freqs = torch.linspace(0.0, sample_rate / 2.0, n_freqs, dtype=torch.float64)  # (F,)
    m_lo, m_hi = hz_to_mel(torch.tensor(f_min)), hz_to_mel(torch.tensor(f_max))
    points = mel_to_hz(torch.linspace(float(m_lo), float(m_hi), n_mels + 2, dtype=torch.float64))
    left, centre, right = points[:-2], points[1:-1], points[2:]  # (M,) each
    rising = (freqs[:, None] - left) / (centre - left)  # (F, M)
    falling = (right - freqs[:, None]) / (right - centre)  # (F, M)
    return torch.clamp(torch.minimum(rising, falling), min=0.0).float()


class LogMel(nn.Module):
    """Waveforms -> log-mel spectrograms (Hann window, centred frames, reflect padding).

    Args:
        sample_rate: Hz of the input.
        n_fft: FFT size and window length (400 = 25 ms at 16 kHz).
        hop_length: Samples between frames (160 = 10 ms at 16 kHz).
        n_mels: Mel bands.
        eps: Added before the log (floor of the log energy).

    Shape:
        input (B, T) float -> output (B, n_mels, 1 + T // hop_length).
    """

    window: Tensor
    fb: Tensor

    def __init__(
        self,
        *,
        sample_rate: int = 16000,
        n_fft: int = 400,
        hop_length: int = 160,
        n_mels: int = 64,
        eps: float = 1e-6,
    ) -> None:
        super().__init__()
        if hop_length < 1 or n_fft < 2 or eps <= 0:
            raise ValueError(
                f"need n_fft >= 2, hop_length >= 1, eps > 0; got {n_fft}, {hop_length}, {eps}"
            )
        self.n_fft, self.hop_length, self.eps = n_fft, hop_length, eps
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        fb = mel_filterbank(n_freqs=n_fft // 2 + 1, n_mels=n_mels, sample_rate=sample_rate)
        self.register_buffer("fb", fb, persistent=False)

    def forward(self, wave: Tensor) -> Tensor:
        if wave.ndim != 2 or wave.shape[1] <= self.n_fft // 2:
            raise ValueError(
                f"expected waveforms (B, T) with T > {self.n_fft // 2}, got {tuple(wave.shape)}"
            )
        spec = torch.stft(
            wave.float(),
            n_fft=self.n_fft,
            hop_length=self.hop_length,
            window=self.window,
            center=True,
            pad_mode="reflect",
            return_complex=True,
        )  # (B, F, frames)
        power = spec.real.square() + spec.imag.square()
        mel = torch.einsum("bft,fm->bmt", power, self.fb)  # f: freq bin, m: mel band, t: frame
        return torch.log(mel + self.eps)


def num_samples(seconds: float, sample_rate: int) -> int:
    """Samples in a clip of `seconds` at `sample_rate` Hz."""
    return math.floor(seconds * sample_rate)
