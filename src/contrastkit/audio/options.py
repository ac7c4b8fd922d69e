"""Options of the speech data: espeak-ng synthesis, the log-mel front end, SpecAugment."""

from __future__ import annotations

from pydantic import Field

from contrastkit.options import Strict


class AudioConfig(Strict):
    """Speech made with espeak-ng, its log-mel front end and SpecAugment views."""

    cache_dir: str = "build/speech"
    sample_rate: int = Field(16000, ge=1000)
    clip_seconds: float = Field(1.0, gt=0.0)
    n_mels: int = Field(64, ge=4)
    n_fft: int = Field(400, ge=16)
    hop_length: int = Field(160, ge=1)
    heldout_words: int = Field(16, ge=1)
    heldout_voices: int = Field(2, ge=1)
    time_masks: int = Field(2, ge=0)
    time_mask_width: int = Field(12, ge=0)
    freq_masks: int = Field(2, ge=0)
    freq_mask_width: int = Field(8, ge=0)
