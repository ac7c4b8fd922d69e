"""Real speech for audio-text training, synthesised offline with Debian's espeak-ng.

`speech_plan` lists the clips: every concept of `languages.concept_table` in each chosen
language, in that language's own words, with several voices of the language (accent +
voice variant), speeds (words per minute) and pitches. `synthesize_speech` speaks a plan:
one WAV per clip into a cache directory and a `manifest.csv` (path, text, voice, speed,
pitch, language, concept). Nothing is downloaded: espeak-ng is a formant synthesiser that
ships its voices in the package.
"""

from __future__ import annotations

import csv
import io
import itertools
import os
import re
import shutil
import subprocess
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from contrastkit.atomic import write_atomic, write_text_atomic
from contrastkit.audio.languages import LANGUAGES, VOICES, concept_table
from contrastkit.data.csv_errors import csv_errors
from contrastkit.errors import UserError
from contrastkit.temporaries import make_temp_file

MANIFEST = "manifest.csv"

SPEEDS: tuple[int, ...] = (150, 200)
PITCHES: tuple[int, ...] = (35, 65)


COLUMNS = ("path", "text", "voice", "speed", "pitch")
"""The columns every manifest has; `language` and `concept` are optional."""


@dataclass(frozen=True)
class Clip:
    """One spoken clip of the manifest: its text, and the concept that text says in
    `language` (a manifest without those columns: language "" and the text as concept)."""

    path: Path
    text: str
    voice: str
    speed: int
    pitch: int
    language: str = ""
    concept: str = ""

    def __post_init__(self) -> None:
        if not self.concept:
            object.__setattr__(self, "concept", self.text)


def _clip_name(concept: str, voice: str, speed: int, pitch: int) -> str:
    """The file of a clip: the concept key (ASCII) and the voice, whose accent names the
    language."""
    return f"{concept.replace(' ', '_')}__{voice.replace('+', '_')}__s{speed}_p{pitch}.wav"


def find_espeak() -> str:
    """Path of the espeak-ng executable, or a UserError saying how to install it."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise UserError(
            "espeak-ng not found: install it (Debian: apt-get install -y espeak-ng) "
            "to synthesise the speech data"
        )
    return exe


def wav_is_complete(path: Path) -> bool:
    """Whether `path` is a readable PCM WAV whose data chunk holds every frame its header
    announces, and at least one: a zero-byte file or one cut short (a full disk, a killed
    write) is not."""
    try:
        with wave.open(str(path), "rb") as handle:
            frames = handle.getnframes()
            size = frames * handle.getsampwidth() * handle.getnchannels()
            return frames > 0 and len(handle.readframes(frames)) == size
    except (OSError, EOFError, wave.Error):
        return False


def _speak(exe: str, out: Path, name: str, text: str, voice: str, speed: int, pitch: int) -> None:
    """Speak `text` into `out / name` atomically: espeak-ng writes a scratch file in `out`,
    which is checked complete and then written atomically under the final name."""
    try:
        fd, tmp = make_temp_file(out, name)
    except OSError as err:
        raise UserError(f"{out}: cannot write the speech clips ({err.strerror})") from None
    os.close(fd)
    try:
        cmd = [exe, "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(tmp), text]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise UserError(
                f"espeak-ng failed on {text!r} with voice {voice}: "
                f"{done.stderr.strip() or f'exit code {done.returncode}'}"
            )
        if not wav_is_complete(tmp):
            raise UserError(
                f"espeak-ng wrote an empty or incomplete WAV for {text!r} with voice {voice} "
                f"({tmp.stat().st_size if tmp.exists() else 0} bytes): is {out} full?"
            )
        audio = tmp.read_bytes()
        write_atomic(out / name, lambda handle: handle.write(audio))  # fsync, then rename
    except OSError as err:
        raise UserError(f"{out / name}: cannot write the clip ({err.strerror})") from None
    finally:
        tmp.unlink(missing_ok=True)


@dataclass(frozen=True)
class SpeechPlan:
    """The clips to speak into `out_dir`, in manifest order (`speech_plan`)."""

    out_dir: Path
    clips: list[Clip]


def speech_plan(
    out_dir: str | Path,
    *,
    languages: tuple[str, ...] = ("en",),
    concepts: tuple[str, ...] | None = None,
    voices: dict[str, tuple[str, ...]] | None = None,
    speeds: tuple[int, ...] = SPEEDS,
    pitches: tuple[int, ...] = PITCHES,
) -> SpeechPlan:
    """The clips to speak, in manifest order (language, voice, speed, pitch, concept), each
    at its file in `out_dir`; nothing is written.

    Args:
        languages: Languages of `languages.LANGUAGES` to speak.
        concepts: Concept keys of the concept table (None: all 84).
        voices: The voices of each language (None: `languages.VOICES`).

    Raises:
        UserError: a language or concept is not in the table.
    """
    table = concept_table()
    unknown = [lang for lang in languages if lang not in LANGUAGES]
    if unknown or not languages:
        raise UserError(f"speech languages {list(languages)}: choose from {', '.join(LANGUAGES)}")
    chosen = tuple(table) if concepts is None else concepts
    missing = [c for c in chosen if c not in table]
    if missing:
        raise UserError(f"concepts {missing} are not in the concept table (audio/concepts.csv)")
    voices = VOICES if voices is None else voices
    out = Path(out_dir)
    clips = [
        Clip(out / _clip_name(c, voice, speed, pitch), table[c][lang], voice, speed, pitch, lang, c)
        for lang in languages
        for voice in voices[lang]
        for speed, pitch in itertools.product(speeds, pitches)
        for c in chosen
    ]
    return SpeechPlan(out, clips)


def synthesize_speech(plan: SpeechPlan, *, note: Callable[[str], None] | None = None) -> Path:
    """Speak every clip of `plan` to a WAV file in `plan.out_dir`; complete files are kept.

    Every WAV and the manifest are written atomically (temporary file, then rename), so an
    interrupted run or a full disk never leaves an empty or cut WAV under its final name.
    A cached WAV that is empty or cut short (left by an older version) is spoken again,
    and `note` (when given) is told how many were.

    Returns:
        The path of the manifest (CSV: path relative to `out_dir`, text, voice, speed,
        pitch, language, concept).

    Raises:
        UserError: espeak-ng is missing, fails on a clip, or writes an incomplete file.

    Example:
        >>> synthesize_speech(speech_plan("speech", languages=("en", "de")))
    """
    exe = find_espeak()
    out = plan.out_dir
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"{out}: cannot create the speech cache ({err.strerror})") from None
    rows: list[tuple[object, ...]] = [(*COLUMNS, "language", "concept")]
    redone = 0
    for c in plan.clips:
        if not (c.path.is_file() and wav_is_complete(c.path)):
            redone += c.path.exists()
            _speak(exe, out, c.path.name, c.text, c.voice, c.speed, c.pitch)
        rows.append((c.path.name, c.text, c.voice, c.speed, c.pitch, c.language, c.concept))
    if redone and note is not None:
        note(f"{out}: spoke {redone} damaged cached clip(s) again (empty or cut short)")
    manifest = out / MANIFEST
    try:
        write_text_atomic(manifest, _csv_text(rows))
    except OSError as err:
        raise UserError(f"{manifest}: cannot write the manifest ({err.strerror})") from None
    return manifest


def _csv_text(rows: list[tuple[object, ...]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


_NOT_UTF8 = re.compile("[\udc80-\udcff]")
"""A byte that was not UTF-8, kept by decoding with errors="surrogateescape"."""


def read_manifest(path: str | Path, *, bad_rows: list[int] | None = None) -> list[Clip]:
    """The clips a manifest lists (paths resolved next to the manifest); the optional
    columns `language` and `concept` say which language a text is in and which concept
    it says (equal concepts are one group in every language).

    Args:
        bad_rows: When given, a row that is not UTF-8 text is left out and its line
            number appended here (`--skip-bad`) instead of stopping the read.

    Raises:
        UserError: the manifest is missing, not CSV, lacks a column, or a row is not
            UTF-8 (without `bad_rows`) or has a speed or pitch that is not an integer.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: speech manifest not found (run `contrastkit speech`)")
    text = path.read_bytes().decode("utf-8", errors="surrogateescape")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    with csv_errors(path, reader):
        expected = set(COLUMNS)
        missing = expected - set(reader.fieldnames or [])
        if missing:
            raise UserError(
                f"{path}: missing columns {sorted(missing)} (expected {sorted(expected)})"
            )
        return [
            clip
            for row in reader
            if (clip := _clip(path, reader.line_num, row, bad_rows)) is not None
        ]


def _clip(path: Path, line: int, row: dict[str, str], bad_rows: list[int] | None) -> Clip | None:
    """The clip of one manifest row (None: a row left out as not UTF-8)."""
    if any(_NOT_UTF8.search(cell or "") for cell in row.values() if isinstance(cell, str)):
        if bad_rows is None:
            raise UserError(
                f"{path}: line {line}: not UTF-8 text; save the manifest as UTF-8 "
                "(or pass --skip-bad to leave such rows out)"
            )
        bad_rows.append(line)
        return None
    try:
        return Clip(
            path=path.parent / row["path"],
            text=row["text"],
            voice=row["voice"],
            speed=int(row["speed"]),
            pitch=int(row["pitch"]),
            language=row.get("language") or "",
            concept=row.get("concept") or "",
        )
    except (TypeError, ValueError):
        raise UserError(
            f"{path}: line {line}: speed and pitch must be integers, got "
            f"{row.get('speed')!r} and {row.get('pitch')!r}"
        ) from None
