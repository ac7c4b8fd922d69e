"""Bring your own image-text pairs: a CSV with columns `image_path,caption`.

Relative image paths are resolved against the CSV's folder. Images are read with Pillow,
converted to RGB and resized to `image_size` x `image_size`.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torch import Tensor

from contrastkit.data.csv_errors import csv_errors
from contrastkit.data.pairs import PairData, PairSplit
from contrastkit.errors import UserError

COLUMNS = ("image_path", "caption")


def read_caption_csv(
    path: str | Path, *, image_size: int, skip_bad: bool
) -> tuple[Tensor, list[str], int]:
    """Read the pairs a caption CSV lists.

    Returns:
        (images uint8 (N, 3, image_size, image_size), captions, rows skipped).

    Raises:
        UserError: the CSV is missing or lacks a column; a row's image is missing or not an
            image, or its caption is empty (unless `skip_bad`: then the row is counted and
            left out). Messages name the row (1 = header) and the path.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"caption CSV not found: {path}")
    images: list[np.ndarray] = []
    captions: list[str] = []
    skipped = 0
    with path.open(newline="") as handle, csv_errors(path, reader := csv.DictReader(handle)):
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise UserError(
                f"{path}: missing column(s) {', '.join(missing)}; expected a header "
                f"'image_path,caption' (got {reader.fieldnames})"
            )
        for row_no, row in enumerate(reader, start=2):
            try:
                image, caption = _read_row(path, row_no, row, image_size)
            except UserError as err:
                if not skip_bad:
                    raise UserError(f"{err} (pass --skip-bad to leave bad rows out)") from None
                skipped += 1
                continue
            images.append(image)
            captions.append(caption)
    if not images:
        raise UserError(f"{path}: no usable rows (skipped {skipped})")
    return torch.from_numpy(np.stack(images)), captions, skipped


def _read_row(
    csv_path: Path, row_no: int, row: dict[str, str], image_size: int
) -> tuple[np.ndarray, str]:
    raw_path = (row.get("image_path") or "").strip()
    caption = (row.get("caption") or "").strip()
    if not caption:
        raise UserError(f"{csv_path} row {row_no}: empty caption")
    image_path = Path(raw_path)
    if not image_path.is_absolute():
        image_path = csv_path.parent / image_path
    if not raw_path or not image_path.is_file():
        raise UserError(f"{csv_path} row {row_no}: image file not found: {image_path}")
    try:
        with Image.open(image_path) as img:
            rgb = img.convert("RGB").resize((image_size, image_size), Image.Resampling.BILINEAR)
    except (UnidentifiedImageError, OSError) as err:
        raise UserError(
            f"{csv_path} row {row_no}: not a readable image: {image_path} ({err})"
        ) from None
    return np.asarray(rgb, dtype=np.uint8).transpose(2, 0, 1), caption  # (3, S, S)


def load_caption_pairs(
    path: str | Path, *, image_size: int, test_fraction: float, split_seed: int, skip_bad: bool
) -> PairData:
    """A caption CSV split at random into train and test; equal captions share an id."""
    images, captions, skipped = read_caption_csv(path, image_size=image_size, skip_bad=skip_bad)
    ids_of: dict[str, int] = {}
    ids = torch.tensor([ids_of.setdefault(c, len(ids_of)) for c in captions], dtype=torch.int64)
    n = len(captions)
    n_test = max(1, round(test_fraction * n))
    if n - n_test < 2:
        raise UserError(f"{path}: {n} usable rows; need at least {n_test + 2} to train and test")
    order = torch.from_numpy(np.random.default_rng(split_seed).permutation(n))
    test_idx, train_idx = order[:n_test], order[n_test:]

    def take(idx: Tensor) -> PairSplit:
        return PairSplit(x=images[idx], texts=[captions[i] for i in idx.tolist()], ids=ids[idx])

    return PairData(
        name=Path(path).stem,
        modality="image",
        train=take(train_idx),
        tests={"test": take(test_idx)},
        skipped=skipped,
    )
