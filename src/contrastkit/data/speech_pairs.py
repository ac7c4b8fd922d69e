"""Audio-text pairs from spoken words: log-mel clips, split by held-out words and voices.

Splits (no word or voice of a test split is trained on, where its name says so):
    train:           training words spoken by training voices
    heldout_voices:  training words spoken by held-out voices (new speakers)
    heldout_words:   held-out words spoken by training voices (new vocabulary)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from contrastkit.audio.mel import LogMel, num_samples
from contrastkit.audio.options import AudioConfig
from contrastkit.audio.speech import MANIFEST, Clip, read_manifest, synthesize_speech
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
        cfg: Front end, cache directory and how many words / voices to hold out.
        manifest: A manifest CSV of one's own (path, text, voice, speed, pitch); None uses
            (and creates) `cfg.cache_dir/manifest.csv` with espeak-ng.
        split_seed: Chooses the held-out words.
        skip_bad: Leave unreadable files out (counted) instead of failing.
    """
    if manifest is None:
        manifest = Path(cfg.cache_dir) / MANIFEST
        if not manifest.is_file():
            log(f"synthesising speech with espeak-ng into {cfg.cache_dir} (first use)")
            synthesize_speech(cfg.cache_dir)
    bad_rows: list[int] = []
    listed = read_manifest(manifest, bad_rows=bad_rows if skip_bad else None)
    mel, clips, skipped = load_clips(listed, cfg, skip_bad=skip_bad)
    skipped += len(bad_rows)
    words = sorted({c.text for c in clips})
    voices = list(dict.fromkeys(c.voice for c in clips))
    if len(words) <= cfg.heldout_words or len(voices) <= cfg.heldout_voices:
        raise UserError(
            f"{manifest}: {len(words)} words and {len(voices)} voices; need more than "
            f"audio.heldout_words={cfg.heldout_words} and audio.heldout_voices={cfg.heldout_voices}"
        )
    order = np.random.default_rng(split_seed).permutation(len(words))
    new_words = {words[i] for i in order[: cfg.heldout_words]}
    new_voices = set(voices[-cfg.heldout_voices :])
    word_id = {w: i for i, w in enumerate(words)}
    ids = torch.tensor([word_id[c.text] for c in clips], dtype=torch.int64)
    is_new_word = torch.tensor([c.text in new_words for c in clips])
    is_new_voice = torch.tensor([c.voice in new_voices for c in clips])
    train_mask = ~is_new_word & ~is_new_voice
    mean, std = mel[train_mask].mean(), mel[train_mask].std()
    mel = (mel - mean) / std  # standardised with training statistics: masks fill with 0

    def take(mask: Tensor) -> PairSplit:
        idx = mask.nonzero().flatten(0).tolist()
        sub_ids = ids[idx]
        return PairSplit(
            x=mel[idx],
            texts=[clips[i].text for i in idx],
            ids=sub_ids,
            prompts={int(i): [words[int(i)]] for i in sub_ids.unique()},
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
