"""Read WAV files with the standard library (`wave`) and NumPy; resample to one rate.

No torchaudio: PCM WAV (8, 16, 24 or 32 bit integer samples) is decoded by hand,
channels are averaged to mono, and other sample rates are resampled with a polyphase
filter (`scipy.signal.resample_poly`).
"""

from __future__ import annotations

import math
import wave
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

from contrastkit.errors import UserError

MIN_RATE, MAX_RATE = 1_000, 768_000
"""The sample rates read (Hz). Outside them a header is damaged or made up: resampling
from a rate like 2^31 - 1 Hz would design a filter of billions of taps."""


def _decode(frames: bytes, sample_width: int) -> np.ndarray:
    """PCM bytes -> float32 samples in [-1, 1]."""
    if sample_width == 1:  # unsigned 8-bit
        return (np.frombuffer(frames, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    if sample_width == 2:
        return np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0
    if sample_width == 3:  # little-endian 24-bit: widen to 32 bits, keep the sign
        raw = np.frombuffer(frames, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        value = raw[:, 0] | (raw[:, 1] << 8) | (raw[:, 2] << 16)
        value = np.where(value >= 1 << 23, value - (1 << 24), value)
        return value.astype(np.float32) / float(1 << 23)
    if sample_width == 4:
        return (np.frombuffer(frames, dtype="<i4").astype(np.float64) / 2.0**31).astype(np.float32)
    raise ValueError(f"unsupported sample width {sample_width} bytes")


def resample(x: np.ndarray, orig_rate: int, target_rate: int) -> np.ndarray:
    """Resample a 1-D signal from `orig_rate` to `target_rate` Hz (polyphase, anti-aliased).

    Shape: (T,) -> (ceil(T * target_rate / orig_rate),).
    """
    if orig_rate <= 0 or target_rate <= 0:
        raise ValueError(f"sample rates must be > 0, got {orig_rate} and {target_rate}")
    if orig_rate == target_rate:
        return x.astype(np.float32, copy=False)
    g = math.gcd(orig_rate, target_rate)
    return resample_poly(x, target_rate // g, orig_rate // g).astype(np.float32)


def read_wav(path: str | Path, *, sample_rate: int) -> np.ndarray:
    """Read a PCM WAV file as mono float32 in [-1, 1] at `sample_rate` Hz.

    Returns:
        Shape: (T,), float32.

    A last frame cut short (a file whose byte count does not fill it) is dropped.

    Raises:
        UserError: the file is missing, is not a PCM WAV file, has a sample rate outside
            `MIN_RATE`..`MAX_RATE`, or holds no samples.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: audio file not found")
    try:
        with wave.open(str(path), "rb") as handle:
            channels = handle.getnchannels()
            width = handle.getsampwidth()
            rate = handle.getframerate()
            frames = handle.readframes(handle.getnframes())
    except (wave.Error, EOFError) as err:
        detail = str(err) or "the file ends early"
        raise UserError(f"{path}: not a PCM WAV audio file ({detail})") from None
    if width not in (1, 2, 3, 4):
        raise UserError(f"{path}: unsupported WAV sample width {width} bytes (expected 1-4)")
    if not MIN_RATE <= rate <= MAX_RATE:
        raise UserError(
            f"{path}: WAV sample rate {rate} Hz; expected {MIN_RATE:,} to {MAX_RATE:,} Hz"
        )
    frames = frames[: len(frames) - len(frames) % (width * channels)]  # a cut-short last frame
    samples = _decode(frames, width)
    if samples.size == 0:
        raise UserError(f"{path}: WAV file holds no audio samples")
    mono = samples[: samples.size - samples.size % channels].reshape(-1, channels).mean(axis=1)
    return resample(mono, rate, sample_rate)


def fix_length(x: np.ndarray, length: int) -> np.ndarray:
    """Crop or zero-pad a 1-D signal to `length` samples, keeping it centred.

    Shape: (T,) -> (length,).
    """
    if x.shape[0] >= length:
        start = (x.shape[0] - length) // 2
        return x[start : start + length]
    pad = length - x.shape[0]
    return np.pad(x, (pad // 2, pad - pad // 2))
