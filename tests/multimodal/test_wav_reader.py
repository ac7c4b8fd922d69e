"""WAV reading with the standard library: sample formats, channels, resampling, bad files."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from contrastkit.audio.wav import fix_length, read_wav, resample
from contrastkit.errors import UserError


def _write(path: Path, samples: np.ndarray, rate: int, width: int, channels: int = 1) -> None:
    """Write float samples in [-1, 1] (T, channels) as PCM of `width` bytes."""
    if width == 1:
        raw = np.round(samples * 127 + 128).astype(np.uint8).tobytes()
    elif width == 3:
        ints = np.round(samples * (2**23 - 1)).astype(np.int32).reshape(-1)
        raw = b"".join(int(v).to_bytes(3, "little", signed=True) for v in ints)
    else:
        dtype = {2: "<i2", 4: "<i4"}[width]
        raw = np.round(samples * (2 ** (8 * width - 1) - 1)).astype(dtype).tobytes()
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(channels)
        handle.setsampwidth(width)
        handle.setframerate(rate)
        handle.writeframes(raw)


@pytest.mark.parametrize("width", [1, 2, 3, 4])
def test_sample_widths_round_trip(tmp_path: Path, width: int) -> None:
    x = 0.5 * np.sin(np.linspace(0, 20, 800))
    _write(tmp_path / "a.wav", x[:, None], 8000, width)
    got = read_wav(tmp_path / "a.wav", sample_rate=8000)
    np.testing.assert_allclose(got, x, atol=2.0 / 2 ** (8 * width - 1) + 1e-6)


def test_stereo_is_averaged(tmp_path: Path) -> None:
    left, right = np.full(100, 0.5), np.full(100, -0.25)
    _write(tmp_path / "s.wav", np.stack([left, right], axis=1), 8000, 2, channels=2)
    np.testing.assert_allclose(read_wav(tmp_path / "s.wav", sample_rate=8000), 0.125, atol=1e-4)


def test_resampling_keeps_frequency_and_duration(tmp_path: Path) -> None:
    rate, f0 = 22050, 500.0
    t = np.arange(rate) / rate  # 1 s
    _write(tmp_path / "r.wav", 0.5 * np.sin(2 * np.pi * f0 * t)[:, None], rate, 2)
    got = read_wav(tmp_path / "r.wav", sample_rate=16000)
    assert got.shape == (16000,)
    spectrum = np.abs(np.fft.rfft(got))
    assert np.argmax(spectrum) * 16000 / len(got) == pytest.approx(f0, abs=1.0)
    assert np.sqrt(np.mean(got[1000:-1000] ** 2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.02)


def test_resample_identity_and_bad_rate() -> None:
    x = np.arange(5, dtype=np.float32)
    np.testing.assert_array_equal(resample(x, 16000, 16000), x)
    with pytest.raises(ValueError, match="sample rates"):
        resample(x, 0, 16000)


def test_not_audio_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "notes.wav"
    bad.write_text("this is a text file, not audio")
    with pytest.raises(UserError, match=r"notes\.wav: not a PCM WAV audio file"):
        read_wav(bad, sample_rate=16000)
    with pytest.raises(UserError, match="audio file not found"):
        read_wav(tmp_path / "missing.wav", sample_rate=16000)


def test_truncated_wav_says_it_ends_early(tmp_path: Path) -> None:
    path = tmp_path / "cut.wav"
    _write(path, np.zeros((100, 1)), 16000, 2)
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(UserError) as err:
        read_wav(path, sample_rate=16000)
    assert str(err.value).endswith("not a PCM WAV audio file (the file ends early)")


def test_empty_wav_is_a_clear_error(tmp_path: Path) -> None:
    _write(tmp_path / "e.wav", np.zeros((0, 1)), 16000, 2)
    with pytest.raises(UserError, match="holds no audio samples"):
        read_wav(tmp_path / "e.wav", sample_rate=16000)


def test_fix_length_centres() -> None:
    np.testing.assert_array_equal(fix_length(np.arange(6.0), 2), [2.0, 3.0])
    np.testing.assert_array_equal(fix_length(np.ones(2), 5), [0, 1, 1, 0, 0])
