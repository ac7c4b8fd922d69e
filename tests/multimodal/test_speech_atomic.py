"""Speech clips are written atomically: a full disk never leaves an empty or cut WAV
under its final name, and such a file left in the cache is spoken again (issue 17).

A fake espeak-ng (a small script) stands in for the real one, so the tests can make it
fail the way a full disk does: exit code 0 and an empty or cut file.
"""

from __future__ import annotations

import shutil
import stat
import sys
import wave
from pathlib import Path

import pytest

from contrastkit.audio import speech
from contrastkit.audio.speech import (
    MANIFEST,
    read_manifest,
    speech_plan,
    synthesize_speech,
    wav_is_complete,
)
from contrastkit.errors import UserError

FAKE_ESPEAK = """#!{python}
import sys, wave
from pathlib import Path
args = sys.argv[1:]
out = Path(args[args.index("-w") + 1])
mode = Path({mode!r}).read_text().strip()
with open({calls!r}, "a") as log:
    log.write(args[-1] + "\\n")
if mode == "empty":  # a full disk: espeak-ng still exits 0
    out.write_bytes(b"")
    sys.exit(0)
with wave.open(str(out), "wb") as handle:
    handle.setnchannels(1)
    handle.setsampwidth(2)
    handle.setframerate(8000)
    handle.writeframes(b"\\x01\\x00" * 800)
if mode == "cut":
    data = out.read_bytes()
    out.write_bytes(data[: len(data) - 100])
"""


@pytest.fixture
def fake_espeak(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """(mode file, calls file): write "ok", "empty" or "cut" into the mode file."""
    mode, calls = tmp_path / "mode", tmp_path / "calls"
    mode.write_text("ok")
    calls.write_text("")
    exe = tmp_path / "espeak-ng"
    exe.write_text(FAKE_ESPEAK.format(python=sys.executable, mode=str(mode), calls=str(calls)))
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setattr(speech, "find_espeak", lambda: str(exe))
    return mode, calls


WORDS = ("apple", "river")
ONE = {"voices": {"en": ("en-us+m1",)}, "speeds": (150,), "pitches": (35,)}


def _files(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir())


def test_a_full_disk_leaves_no_wav_under_its_final_name(
    tmp_path: Path, fake_espeak: tuple[Path, Path]
) -> None:
    mode, _ = fake_espeak
    out = tmp_path / "speech"
    for failure in ("empty", "cut"):
        mode.write_text(failure)
        with pytest.raises(UserError, match="empty or incomplete WAV for 'apple'"):
            synthesize_speech(speech_plan(out, concepts=WORDS, **ONE))  # type: ignore[arg-type]
        assert _files(out) == []  # no clip, no temporary, no manifest


def test_a_damaged_cached_wav_is_spoken_again(
    tmp_path: Path, fake_espeak: tuple[Path, Path]
) -> None:
    _, calls = fake_espeak
    out = tmp_path / "speech"
    manifest = synthesize_speech(speech_plan(out, concepts=WORDS, **ONE))  # type: ignore[arg-type]
    clips = read_manifest(manifest)
    assert [c.text for c in clips] == list(WORDS)
    assert calls.read_text().split() == list(WORDS)
    good = clips[1].path.read_bytes()
    assert all(wav_is_complete(c.path) for c in clips)

    clips[0].path.write_bytes(b"")  # left by an older version on a full disk
    data = clips[1].path.read_bytes()
    clips[1].path.write_bytes(data[: len(data) // 2])  # cut short
    assert not wav_is_complete(clips[0].path) and not wav_is_complete(clips[1].path)
    calls.write_text("")
    notes: list[str] = []
    synthesize_speech(speech_plan(out, concepts=WORDS, **ONE), note=notes.append)  # type: ignore[arg-type]
    assert calls.read_text().split() == list(WORDS)
    assert clips[1].path.read_bytes() == good
    assert notes == [f"{out}: spoke 2 damaged cached clip(s) again (empty or cut short)"]

    calls.write_text("")
    synthesize_speech(speech_plan(out, concepts=WORDS, **ONE))  # type: ignore[arg-type]
    assert calls.read_text() == ""  # complete clips are kept
    assert _files(out) == sorted([MANIFEST, clips[0].path.name, clips[1].path.name])


def test_an_espeak_error_leaves_no_temporary(
    tmp_path: Path, fake_espeak: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    failing = tmp_path / "failing"
    failing.write_text("#!/bin/sh\necho 'voice not found' >&2\nexit 1\n")
    failing.chmod(0o755)
    monkeypatch.setattr(speech, "find_espeak", lambda: str(failing))
    out = tmp_path / "speech"
    with pytest.raises(UserError, match="espeak-ng failed on 'apple' with voice en-us.m1: voice"):
        synthesize_speech(speech_plan(out, concepts=WORDS, **ONE))  # type: ignore[arg-type]
    assert _files(out) == []


def test_wav_is_complete_on_a_real_espeak_clip(tmp_path: Path) -> None:
    if shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is required (apt-get install -y espeak-ng)")
    plan = speech_plan(tmp_path, concepts=("apple",), **ONE)  # type: ignore[arg-type]
    manifest = synthesize_speech(plan)
    (clip,) = read_manifest(manifest)
    assert wav_is_complete(clip.path)
    with wave.open(str(clip.path)) as handle:
        assert handle.getnframes() > 1000
    data = clip.path.read_bytes()
    clip.path.write_bytes(data[:-2])
    assert not wav_is_complete(clip.path)
    clip.path.write_bytes(data[:20])
    assert not wav_is_complete(clip.path)
