"""Image folders: one subfolder per class (labelled) or images directly inside (unlabeled).

Hidden files and folders (names starting with '.') are ignored. Every other file must be a
PNG/JPEG/BMP image: a file that is not, or that cannot be decoded, stops the read with a
message naming it, unless `skip_bad`, which skips it and says how many were skipped.
Grey and colour images may be mixed (grey ones are repeated on 3 channels, with a note);
images of other sizes are resized (bilinear) to the most common size or to `image_size`,
with a note.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from contrastkit.data.decode import IMAGE_SUFFIXES, BadImage, decode_image
from contrastkit.data.imageset import ImageSet, check_size, unlabeled
from contrastkit.errors import UserError

SKIP_HINT = "pass --skip-bad (data.skip_bad=true) to skip bad files"


@dataclass(frozen=True)
class FolderListing:
    """The files of an image folder as strings, and their class index (-1 when unlabeled):
    what `scan_folder` lists, without a `Path` object per file."""

    root: Path
    files: list[str]
    labels: list[int]
    class_names: list[str]
    notes: list[str]


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


def _files_under(folder: Path, links: list[str]) -> list[str]:
    """Visible files below `folder` (symlinked folders not followed), as strings sorted
    by their path parts (a million `Path` objects would hold hundreds of MB); symbolic
    links that are broken or lead to a folder are appended to `links`."""
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        links.extend(
            os.path.join(dirpath, d) for d in dirnames if os.path.islink(os.path.join(dirpath, d))
        )
        for name in filenames:
            path = os.path.join(dirpath, name)
            if name.startswith("."):
                continue
            if os.path.isfile(path):
                found.append(path)
            elif os.path.islink(path):
                links.append(path)
    found.sort(key=lambda path: path.replace(os.sep, "\0"))  # == sorting by parts
    return found


def _links_note(links: list[str]) -> list[str]:
    if not links:
        return []
    return [
        f"{len(links)} symbolic link(s) skipped: broken, or to a folder (not followed); "
        f"first: {sorted(links)[0]}"
    ]


def scan_folder(root: Path) -> FolderLayout:
    """List an image folder's files and decide whether its subfolders are classes.

    Raises:
        UserError: not a folder, empty, or files next to class subfolders.
    """
    found = list_folder(root)
    return FolderLayout(
        found.root, [Path(f) for f in found.files], found.labels, found.class_names, found.notes
    )


def list_folder(root: Path) -> FolderListing:
    """`scan_folder`'s listing with the files as strings.

    Raises:
        UserError: not a folder, empty, or files next to class subfolders.
    """
    if not root.is_dir():
        raise UserError(f"{root}: not a folder")
    entries = _visible(root)
    subdirs = [p for p in entries if p.is_dir()]
    loose = [p for p in entries if p.is_file()]
    broken = [p for p in entries if p.is_symlink() and not p.exists()]
    links = [str(p) for p in broken]
    if not subdirs and not loose and broken:
        raise UserError(
            f"{root}: holds only broken symbolic links ({len(broken)}, first: {broken[0].name})"
        )
    if not entries:
        raise UserError(
            f"{root}: the folder is empty (expected {'/'.join(IMAGE_SUFFIXES)} images, "
            "or one subfolder of them per class)"
        )
    if not subdirs:
        return FolderListing(
            root, [str(p) for p in loose], [-1] * len(loose), [], _links_note(links)
        )
    if loose:
        raise UserError(
            f"{loose[0]}: a file next to class subfolders ({', '.join(p.name for p in subdirs[:3])}"
            f"{', ...' if len(subdirs) > 3 else ''}); put every image inside a class folder, "
            "or use a flat folder for unlabeled images"
        )
    files: list[str] = []
    labels: list[int] = []
    class_names: list[str] = []
    notes: list[str] = []
    for sub in subdirs:
        found = _files_under(sub, links)
        if not found:
            notes.append(f"class folder {sub.name!r} is empty and was left out")
            continue
        labels.extend([len(class_names)] * len(found))
        class_names.append(sub.name)
        files.extend(found)
    if not files:
        found_links = f"; {_links_note(links)[0]}" if links else ""
        raise UserError(f"{root}: every class subfolder is empty (no images found){found_links}")
    return FolderListing(root, files, labels, class_names, notes + _links_note(links))


def most_common_size(counts: Counter[tuple[int, int]]) -> tuple[int, int]:
    """The (H, W) that most images have (counts: images per size); ties go to the larger."""
    return max(counts, key=lambda size: (counts[size], size))


def resize_pixels(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of uint8 (H, W, C) pixels to `size` (H, W) with Pillow."""
    img = Image.fromarray(pixels[..., 0] if pixels.shape[2] == 1 else pixels)
    out = np.asarray(img.resize((size[1], size[0]), Image.Resampling.BILINEAR))
    return out[..., None] if out.ndim == 2 else out


def conform(pixels: np.ndarray, *, channels: int, size: tuple[int, int]) -> np.ndarray:
    """Pixels (H, W, 1 or 3) in the folder's common form: grey repeated on 3 channels when
    `channels` is 3, then resized (bilinear) to `size` (H, W) when they differ."""
    if channels == 3 and pixels.shape[2] == 1:
        pixels = np.repeat(pixels, 3, axis=2)
    return pixels if pixels.shape[:2] == size else resize_pixels(pixels, size)


def form_notes(
    *,
    modes: Counter[str],
    channels: Counter[int],
    sizes: Counter[tuple[int, int]],
    target: tuple[int, int],
    image_size: int | None,
) -> list[str]:
    """What conforming the images changes: mixed modes, grey repeated, images resized.

    Args:
        modes, channels, sizes: Images per Pillow mode, per channel count, per (H, W).
    """
    notes = []
    if len(modes) > 1:
        notes.append(
            "mixed image modes " + ", ".join(f"{m}: {k}" for m, k in sorted(modes.items()))
        )
    if channels[3] and channels[1]:
        grey = channels[1]
        notes.append(f"{grey} grey image(s) repeated on 3 channels to match the colour ones")
    resized = sum(k for size, k in sizes.items() if size != target)
    if resized:
        why = "data.image_size" if image_size else "the most common size; set data.image_size"
        notes.append(
            f"resized {resized} of {sum(sizes.values())} images to {target[0]}x{target[1]} ({why})"
        )
    return notes


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
    sizes = Counter((p.shape[0], p.shape[1]) for p in pixels)
    channels = Counter(p.shape[2] for p in pixels)
    target = (image_size, image_size) if image_size else most_common_size(sizes)
    check_size(f"{layout.root}", target)
    notes.extend(
        form_notes(
            modes=modes, channels=channels, sizes=sizes, target=target, image_size=image_size
        )
    )
    common = 3 if channels[3] else 1
    pixels = [conform(p, channels=common, size=target) for p in pixels]
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
