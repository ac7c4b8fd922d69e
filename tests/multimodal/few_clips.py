"""A few spoken clips for the speech tests, made with espeak-ng (a Debian package)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from contrastkit.audio.speech import speech_plan, synthesize_speech


def speak_few(out: Path, voices: dict[str, tuple[str, ...]], concepts: tuple[str, ...]) -> Path:
    """`concepts` spoken in each language of `voices` by its voices, at one speed and
    pitch, into `out`; returns the manifest."""
    if shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is required (apt-get install -y espeak-ng)")
    plan = speech_plan(
        out, languages=tuple(voices), concepts=concepts, voices=voices, speeds=(170,),
        pitches=(50,),
    )  # fmt: skip
    return synthesize_speech(plan)
