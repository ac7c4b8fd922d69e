"""Options of the speech data: espeak-ng synthesis, the log-mel front end, SpecAugment."""

from __future__ import annotations

from pydantic import Field, field_validator

from contrastkit.audio.languages import LANGUAGES
from contrastkit.options import Strict


class AudioConfig(Strict):
    """Speech made with espeak-ng, its log-mel front end and SpecAugment views.

    `languages` are the languages spoken into the cache (each concept in each language's
    own words); `heldout_voices` is the number of voices held out in each language.
    """

    cache_dir: str = "build/speech"
    languages: list[str] = Field(default_factory=lambda: ["en"], min_length=1)
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

    @field_validator("languages")
    @classmethod
    def _known_languages(cls, value: list[str]) -> list[str]:
        unknown = [lang for lang in value if lang not in LANGUAGES]
        if unknown or len(set(value)) != len(value):
            raise ValueError(f"{value}: choose distinct languages among {', '.join(LANGUAGES)}")
        return value
