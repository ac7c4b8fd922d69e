"""New inputs of a paired run read as its training inputs were: images at the training size
and channels, WAV clips trimmed, cut to `audio.clip_seconds`, log-mel and standardised with
the training statistics; texts as a file of lines."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from contrastkit.audio.options import AudioConfig
from contrastkit.audio.speech import Clip
from contrastkit.data.pairs import PairData
from contrastkit.data.speech_pairs import load_clips
from contrastkit.errors import UserError
from contrastkit.modalities.images.query import match_channels, read_query
from contrastkit.modalities.images.sources import load_image_set
from contrastkit.modalities.options import DataConfig

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")


def read_clips(paths: list[Path], audio: AudioConfig, data: PairData, *, what: str) -> Tensor:
    """WAV files as the run's standardised log-mel inputs. Shape: (N, 1, n_mels, frames).

    Raises:
        UserError: a file is not a readable WAV (named), or the run kept no statistics.
    """
    if data.input_stats is None:
        raise UserError(f"{what}: this run's inputs are not spectrograms")
    for path in paths:
        if path.suffix.lower() != ".wav":
            raise UserError(f"{what} {path}: this is an audio-text run; give a .wav clip")
    clips = [Clip(path=p, text="", voice="", speed=0, pitch=0) for p in paths]
    mel, _, _ = load_clips(clips, audio, skip_bad=False)
    mean, std = data.input_stats
    return (mel - mean) / std


def wav_files(folder: Path) -> list[Path]:
    """The .wav files under `folder`, sorted (UserError when none)."""
    found = sorted(p for p in folder.rglob("*") if p.suffix.lower() == ".wav")
    if not found:
        raise UserError(f"--data {folder}: no .wav files in this folder")
    return found


def image_like(x: Tensor, images: Tensor) -> Tensor:
    """uint8 images (N, C, H, W) at the channels and size of the training inputs `x`."""
    images = match_channels(images, int(x.shape[1]))
    size = (int(x.shape[2]), int(x.shape[3]))
    if tuple(images.shape[2:]) != size:
        resized = F.interpolate(images.float(), size=size, mode="bilinear", antialias=True)
        images = resized.round().clamp(0, 255).to(torch.uint8)
    return images


def read_image_folder(
    cfg: DataConfig, path: str, x: Tensor
) -> tuple[Tensor, list[str], list[str], Tensor]:
    """An image folder (or array file) at the training inputs' size: (images, ids,
    class names, labels (N,), -1 when unlabelled)."""
    images = load_image_set(cfg.model_copy(update={"source": "auto", "path": path}))
    return image_like(x, images.images), images.paths, images.class_names, images.labels


def read_image_query(path: Path, x: Tensor) -> Tensor:
    """One image file at the training inputs' channels and size. Shape: (1, C, H, W)."""
    return read_query(path, channels=int(x.shape[1]), size=(int(x.shape[2]), int(x.shape[3])))
