"""Image folders: one subfolder per class (labelled) or images directly inside (unlabeled).

Hidden files and folders (names starting with '.') are ignored. Every other file must be a
PNG/JPEG/BMP image: a file that is not, or that cannot be decoded, stops the read with a
message naming it, unless `skip_bad`, which skips it and says how many were skipped.
Grey and colour images may be mixed (grey ones are repeated on 3 channels, with a note);
images of other sizes are resized (bilinear) to the most common size or to `image_size`,
with a note.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from contrastkit.data.decode import IMAGE_SUFFIXES, BadImage, decode_image
from contrastkit.data.imageset import ImageSet, unlabeled
from contrastkit.errors import UserError

SKIP_HINT = "pass --skip-bad (data.skip_bad=true) to skip bad files"


@dataclass(frozen=True)
class FolderLayout:
    """The files of an image folder and their class index (-1 when unlabeled)."""

    root: Path
    files: list[Path]
    labels: list[int]
    class_names: list[str]
    notes: list[str]


def _visible(path: Path) -> list[Path]:
    return sorted(p for p in path.iterdir() if not p.name.startswith("."))


def _files_under(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def scan_folder(root: Path) -> FolderLayout:
    """List an image folder's files and decide whether its subfolders are classes.

    Raises:
        UserError: not a folder, empty, or files next to class subfolders.
    """
    if not root.is_dir():
        raise UserError(f"{root}: not a folder")
    entries = _visible(root)
    subdirs = [p for p in entries if p.is_dir()]
    loose = [p for p in entries if p.is_file()]
    if not entries:
        raise UserError(
            f"{root}: the folder is empty (expected {'/'.join(IMAGE_SUFFIXES)} images, "
            "or one subfolder of them per class)"
        )
    if not subdirs:
        return FolderLayout(root, loose, [-1] * len(loose), [], [])
    if loose:
        raise UserError(
            f"{loose[0]}: a file next to class subfolders ({', '.join(p.name for p in subdirs[:3])}"
            f"{', ...' if len(subdirs) > 3 else ''}); put every image inside a class folder, "
            "or use a flat folder for unlabeled images"
        )
    files: list[Path] = []
    labels: list[int] = []
    class_names: list[str] = []
    notes: list[str] = []
    for sub in subdirs:
        found = _files_under(sub)
        if not found:
            notes.append(f"class folder {sub.name!r} is empty and was left out")
            continue
        labels.extend([len(class_names)] * len(found))
        class_names.append(sub.name)
        files.extend(found)
    if not files:
        raise UserError(f"{root}: every class subfolder is empty (no images found)")
    return FolderLayout(root, files, labels, class_names, notes)


def _most_common_size(arrays: list[np.ndarray]) -> tuple[int, int]:
    counts = Counter((a.shape[0], a.shape[1]) for a in arrays)
    return max(counts, key=lambda size: (counts[size], size))


def _resize(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    img = Image.fromarray(pixels[..., 0] if pixels.shape[2] == 1 else pixels)
    out = np.asarray(img.resize((size[1], size[0]), Image.Resampling.BILINEAR))
    return out[..., None] if out.ndim == 2 else out


def decode_folder(
    layout: FolderLayout, *, skip_bad: bool = False, image_size: int | None = None
) -> ImageSet:
    """Decode every file of `layout` into one uint8 (N, C, H, W) `ImageSet`.

    Raises:
        UserError: a bad file (naming it) unless `skip_bad`; no good image left.
    """
    pixels: list[np.ndarray] = []
    kept: list[int] = []
    bad: list[str] = []
    modes: Counter[str] = Counter()
    for i, path in enumerate(layout.files):
        try:
            array, mode = decode_image(path)
        except BadImage as err:
            if not skip_bad:
                raise UserError(f"{path}: {err}; {SKIP_HINT}") from None
            bad.append(f"{path}: {err}")
            continue
        pixels.append(array)
        kept.append(i)
        modes[mode] += 1
    notes = list(layout.notes)
    if bad:
        notes.append(f"skipped {len(bad)} bad file(s) (--skip-bad); first: {bad[0]}")
    if not pixels:
        raise UserError(f"{layout.root}: no readable images ({len(bad)} bad files skipped)")
    if len(modes) > 1:
        notes.append(
            "mixed image modes " + ", ".join(f"{m}: {k}" for m, k in sorted(modes.items()))
        )
    if any(p.shape[2] == 3 for p in pixels) and any(p.shape[2] == 1 for p in pixels):
        grey = sum(p.shape[2] == 1 for p in pixels)
        notes.append(f"{grey} grey image(s) repeated on 3 channels to match the colour ones")
        pixels = [np.repeat(p, 3, axis=2) if p.shape[2] == 1 else p for p in pixels]
    target = (image_size, image_size) if image_size else _most_common_size(pixels)
    resized = sum(p.shape[:2] != target for p in pixels)
    if resized:
        why = "data.image_size" if image_size else "the most common size; set data.image_size"
        notes.append(
            f"resized {resized} of {len(pixels)} images to {target[0]}x{target[1]} ({why})"
        )
        pixels = [p if p.shape[:2] == target else _resize(p, target) for p in pixels]
    images = torch.from_numpy(np.stack(pixels).transpose(0, 3, 1, 2).copy())  # (N, C, H, W)
    labels = (
        torch.tensor([layout.labels[i] for i in kept], dtype=torch.int64)
        if layout.class_names
        else unlabeled(len(kept))
    )
    return ImageSet(
        images=images,
        labels=labels,
        class_names=list(layout.class_names),
        paths=[str(layout.files[i]) for i in kept],
        name=layout.root.name or str(layout.root),
        notes=notes,
    )
