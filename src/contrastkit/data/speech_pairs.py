"""Audio-text pairs from spoken words: log-mel clips, split by held-out words and voices.

A group is a concept: its text in every language of the manifest (English "apple",
German "Apfel", ...) is one group id, so the losses pull a German clip towards the text
of its concept in each language, and retrieval counts those texts as relevant.

Splits (no word or voice of a test split is trained on, where its name says so):
    train:           training concepts spoken by training voices
    heldout_voices:  training concepts spoken by the held-out voices of each language
    heldout_words:   held-out concepts (in every language) spoken by training voices
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from contrastkit.audio.mel import LogMel, num_samples
from contrastkit.audio.options import AudioConfig
from contrastkit.audio.speech import (
    MANIFEST,
    Clip,
    read_manifest,
    speech_plan,
    synthesize_speech,
)
from contrastkit.audio.wav import fix_length, read_wav
from contrastkit.data.pairs import PairData, PairSplit
from contrastkit.errors import UserError


def trim_silence(x: np.ndarray, *, threshold: float = 0.02) -> np.ndarray:
    """Drop leading and trailing samples quieter than `threshold` times the peak."""
    loud = np.flatnonzero(np.abs(x) > threshold * max(float(np.abs(x).max()), 1e-12))
    return x[loud[0] : loud[-1] + 1] if loud.size else x


def load_clips(
    clips: list[Clip], cfg: AudioConfig, *, skip_bad: bool
) -> tuple[Tensor, list[Clip], int]:
    """Read, trim and centre each clip to `cfg.clip_seconds`, then take its log-mel.

    Returns:
        (log-mel (N, 1, n_mels, frames) float32, the clips kept, the number skipped).

    Raises:
        UserError: a file is not audio and `skip_bad` is False (the message names it).
    """
    length = num_samples(cfg.clip_seconds, cfg.sample_rate)
    waves, kept, skipped = [], [], 0
    for clip in clips:
        try:
            wave = read_wav(clip.path, sample_rate=cfg.sample_rate)
        except UserError as err:
            if not skip_bad:
                raise UserError(f"{err} (pass --skip-bad to leave bad files out)") from None
            skipped += 1
            continue
        waves.append(fix_length(trim_silence(wave), length))
        kept.append(clip)
    if not waves:
        raise UserError("no readable audio clips left")
    front = LogMel(
        sample_rate=cfg.sample_rate, n_fft=cfg.n_fft, hop_length=cfg.hop_length, n_mels=cfg.n_mels
    )
    batch = torch.from_numpy(np.stack(waves))  # (N, T)
    with torch.no_grad():
        mel = torch.cat([front(part) for part in batch.split(256)])  # (N, M, frames)
    return mel.unsqueeze(1), kept, skipped


def load_speech_pairs(
    cfg: AudioConfig,
    *,
    manifest: str | Path | None,
    split_seed: int,
    skip_bad: bool,
    log: Callable[[str], None] = lambda _msg: None,
) -> PairData:
    """Load (and on first use synthesise) the spoken-word pairs, split three ways.

    Args:
        cfg: Front end, cache directory, languages and how many concepts / voices (per
            language) to hold out.
        manifest: A manifest CSV of one's own (path, text, voice, speed, pitch, and
            optionally language, concept); None uses (and creates) `cfg.cache_dir/
            manifest.csv` with espeak-ng in `cfg.languages`.
        split_seed: Chooses the held-out concepts.
        skip_bad: Leave unreadable files out (counted) instead of failing.
    """
    if manifest is None:
        manifest = cached_manifest(cfg, log)
    bad_rows: list[int] = []
    listed = read_manifest(manifest, bad_rows=bad_rows if skip_bad else None)
    mel, clips, skipped = load_clips(listed, cfg, skip_bad=skip_bad)
    skipped += len(bad_rows)
    ids, is_new_word, is_new_voice = split_clips(clips, cfg, split_seed, where=str(manifest))
    train_mask = ~is_new_word & ~is_new_voice
    mean, std = mel[train_mask].mean(), mel[train_mask].std()
    mel = (mel - mean) / std  # standardised with training statistics: masks fill with 0
    spoken = any(c.language for c in clips)

    def take(mask: Tensor) -> PairSplit:
        idx = mask.nonzero().flatten(0).tolist()
        prompts: dict[int, set[str]] = {}
        for i in idx:
            prompts.setdefault(int(ids[i]), set()).add(clips[i].text)
        return PairSplit(
            x=mel[idx],
            texts=[clips[i].text for i in idx],
            ids=ids[idx],
            prompts={c: sorted(texts) for c, texts in prompts.items()},
            languages=[clips[i].language for i in idx] if spoken else [],
        )

    return PairData(
        name="speech",
        modality="audio",
        train=take(train_mask),
        tests={
            "heldout_voices": take(~is_new_word & is_new_voice),
            "heldout_words": take(is_new_word & ~is_new_voice),
        },
        skipped=skipped,
        input_stats=(float(mean), float(std)),
    )


def split_clips(
    clips: list[Clip], cfg: AudioConfig, split_seed: int, *, where: str
) -> tuple[Tensor, Tensor, Tensor]:
    """Group ids (concepts, sorted) and which clips say a held-out concept (drawn with
    `split_seed`) or are spoken by a held-out voice (the last `cfg.heldout_voices` of each
    language).

    Returns:
        (ids int64, new concept bool, new voice bool), each of Shape: (N,).

    Raises:
        UserError: too few concepts, or a language with too few voices, for the hold-out.
    """
    concepts = sorted({c.concept for c in clips})
    new_voices = heldout_voices(clips, cfg.heldout_voices, where=where)
    if len(concepts) <= cfg.heldout_words:
        raise UserError(
            f"{where}: {len(concepts)} concepts; need more than "
            f"audio.heldout_words={cfg.heldout_words}"
        )
    order = np.random.default_rng(split_seed).permutation(len(concepts))
    new_concepts = {concepts[i] for i in order[: cfg.heldout_words]}
    concept_id = {w: i for i, w in enumerate(concepts)}
    ids = torch.tensor([concept_id[c.concept] for c in clips], dtype=torch.int64)
    is_new_word = torch.tensor([c.concept in new_concepts for c in clips], dtype=torch.bool)
    is_new_voice = torch.tensor([c.voice in new_voices for c in clips], dtype=torch.bool)
    return ids, is_new_word, is_new_voice


def heldout_voices(clips: list[Clip], n: int, *, where: str) -> set[str]:
    """The last `n` voices (in manifest order) of each language.

    Raises:
        UserError: a language has `n` voices or fewer (nothing left to train on).
    """
    by_language: dict[str, list[str]] = {}
    for clip in clips:
        voices = by_language.setdefault(clip.language, [])
        if clip.voice not in voices:
            voices.append(clip.voice)
    for language, voices in by_language.items():
        if len(voices) <= n:
            raise UserError(
                f"{where}: {len(voices)} voices"
                + (f" in language {language!r}" if language else "")
                + f"; need more than audio.heldout_voices={n}"
            )
    return {v for voices in by_language.values() for v in voices[-n:]}


def cached_manifest(cfg: AudioConfig, log: Callable[[str], None]) -> Path:
    """`cfg.cache_dir/manifest.csv`, spoken (again) with espeak-ng unless it already lists
    exactly `cfg.languages`; clips already in the cache are kept."""
    manifest = Path(cfg.cache_dir) / MANIFEST
    if manifest.is_file() and {c.language for c in read_manifest(manifest)} == set(cfg.languages):
        return manifest
    log(
        f"synthesising speech ({', '.join(cfg.languages)}) with espeak-ng into {cfg.cache_dir}"
        " (first use)"
    )
    return synthesize_speech(speech_plan(cfg.cache_dir, languages=tuple(cfg.languages)))
