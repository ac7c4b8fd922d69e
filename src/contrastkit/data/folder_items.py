"""An image folder read lazily: one file decoded per item, in the DataLoader's workers.

`scan_folder_items` reads only each file's header (Pillow's `Image.open` parses the header
and decodes nothing) to choose what `decode_folder` would choose from the decoded pixels:
the common size (the most common (H, W), or `image_size`) and channels (RGB when any image
is colour, else grey), and to find files that are not images up front (an error naming the
file, or skipped with `skip_bad`, with the same notes as `decode_folder`). `FolderItems`
then decodes item i with `decode_image` and conforms it with `folder.conform`, the code
`decode_folder` runs, so both give the same pixels. Memory holds the file list and labels,
never the pixels.

A file whose header reads but whose data is corrupt (a truncated JPEG) is only found when
its item is decoded; that stops training with an error naming the file. With `skip_bad`
(`--skip-bad`) the scan decodes every file once instead, so that such files are left out
and counted like the others (`data.cache: true` also decodes everything up front).

Example:
    >>> items = scan_folder_items(scan_folder(Path("photos")))
    >>> image, label = items[0]     # uint8 (C, H, W), int64 ()
"""

from __future__ import annotations

import copy
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from contrastkit.data.decode import BadImage, decode_image, opened_image
from contrastkit.data.folder import (
    SKIP_HINT,
    FolderLayout,
    FolderListing,
    conform,
    form_notes,
    most_common_size,
)
from contrastkit.data.imageset import check_size
from contrastkit.errors import UserError

GREY_MODES = ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L")
COLOUR_MODES = ("RGB", "RGBA", "P", "PA", "CMYK", "YCbCr")
"""Pillow modes `decode_image` turns into 1 channel and into 3 channels; others are bad."""


def read_header(path: Path) -> tuple[tuple[int, int], int, str]:
    """(H, W), channels after decoding (1 or 3) and mode of an image file, from its header.

    Raises:
        BadImage: not an image file, an unreadable header, an unsupported mode.
    """
    with opened_image(path) as img:
        width, height = img.size
        mode = img.mode
    if mode not in GREY_MODES + COLOUR_MODES:
        raise BadImage(f"unsupported image mode {mode!r} (expected grey, RGB or RGBA)")
    if min(width, height) < 1:
        raise BadImage(f"image has an empty size {(height, width)}")
    return (height, width), (1 if mode in GREY_MODES else 3), mode


class FolderItems(Dataset[tuple[Tensor, Tensor]]):
    """Images of a folder, decoded one per item: `(uint8 (C, H, W), int64 () label)`.

    Args:
        paths: The image files, in item order.
        labels: Shape: (N,), int64 class index (-1 everywhere when unlabeled).
        size: The common (H, W) every image is resized to (bilinear).
        channels: 1 (grey) or 3 (RGB; grey images are repeated on 3 channels).
        class_names: Name of each label index; empty when unlabeled.
        name: What the data is called in messages and `metrics.json`.
        notes: What the scan skipped or what conforming the images changes.
    """

    def __init__(
        self,
        paths: Sequence[str],
        labels: Tensor,
        *,
        size: tuple[int, int],
        channels: int,
        class_names: Sequence[str] = (),
        name: str = "images",
        notes: Sequence[str] = (),
    ) -> None:
        if labels.shape != (len(paths),) or labels.dtype != torch.int64:
            raise ValueError(
                f"{len(paths)} paths need int64 labels of shape ({len(paths)},), got "
                f"{labels.dtype} {tuple(labels.shape)}"
            )
        if channels not in (1, 3) or min(size) < 1:
            raise ValueError(f"channels must be 1 or 3 and size positive, got {channels}, {size}")
        # One bytes array, not a list of str: no Python object per file, so a worker's
        # reads touch no reference counts and copy no pages of the parent's memory.
        self._paths = np.array([os.fsencode(p) for p in paths], dtype=np.bytes_)
        self.labels = labels
        self.size = size
        self.channels = channels
        self.class_names = list(class_names)
        self.name = name
        self.notes = list(notes)

    def __len__(self) -> int:
        return len(self._paths)

    @property
    def paths(self) -> list[str]:
        """The image files, in item order."""
        return [os.fsdecode(p) for p in self._paths]

    def path(self, i: int) -> Path:
        return Path(os.fsdecode(self._paths[i]))

    @property
    def labelled(self) -> bool:
        return bool(self.class_names) and bool((self.labels >= 0).all())

    @property
    def shape(self) -> tuple[int, int, int]:
        """(C, H, W) of every item."""
        return (self.channels, *self.size)

    def __getitem__(self, i: int) -> tuple[Tensor, Tensor]:
        """Decode file i. Returns: uint8 (C, H, W) pixels and its int64 () label.

        Raises:
            UserError: The file cannot be decoded (naming it).
        """
        path = self.path(i)
        try:
            pixels, _mode = decode_image(path)
        except BadImage as err:
            raise UserError(
                f"{path}: {err} (its header read, its data did not); remove the file, or "
                "pass --skip-bad to leave such files out"
            ) from None
        pixels = conform(pixels, channels=self.channels, size=self.size)
        image = torch.from_numpy(pixels.transpose(2, 0, 1).copy())  # (C, H, W)
        return image, self.labels[i]

    def subset(self, index: Sequence[int] | Tensor) -> FolderItems:
        """The items `index` (a split), with the same size, channels and classes."""
        keep = torch.as_tensor(index, dtype=torch.int64)
        part = copy.copy(self)  # the paths stay one bytes array: no str per file on the way
        part._paths = self._paths[keep.numpy()]
        part.labels = self.labels[keep]
        part.class_names, part.notes = list(self.class_names), list(self.notes)
        return part


def scan_folder_items(
    layout: FolderLayout | FolderListing, *, skip_bad: bool = False, image_size: int | None = None
) -> FolderItems:
    """Read the headers of `layout`'s files and make the lazy dataset over the good ones
    (`list_folder(root)` lists a folder without a `Path` object per file); with
    `skip_bad`, every file is also decoded once, to leave out those whose data is bad.

    Raises:
        UserError: a bad file (naming it) unless `skip_bad`; no good image left.
    """
    kept = np.zeros(len(layout.files), dtype=bool)
    sizes: Counter[tuple[int, int]] = Counter()
    channels: Counter[int] = Counter()
    bad: list[str] = []
    modes: Counter[str] = Counter()
    for i, file in enumerate(layout.files):
        path = Path(str(file))
        try:
            size, c, mode = read_header(path)
            if skip_bad:  # a file whose header reads but whose data does not is left out too
                decode_image(path)
        except BadImage as err:
            if not skip_bad:
                raise UserError(f"{path}: {err}; {SKIP_HINT}") from None
            bad.append(f"{path}: {err}")
            continue
        kept[i] = True
        sizes[size] += 1
        channels[c] += 1
        modes[mode] += 1
    notes = list(layout.notes)
    if bad:
        notes.append(f"skipped {len(bad)} bad file(s) (--skip-bad); first: {bad[0]}")
    if not kept.any():
        raise UserError(f"{layout.root}: no readable images ({len(bad)} bad files skipped)")
    target = (image_size, image_size) if image_size else most_common_size(sizes)
    check_size(f"{layout.root}", target)
    notes.extend(
        form_notes(
            modes=modes, channels=channels, sizes=sizes, target=target, image_size=image_size
        )
    )
    index = np.flatnonzero(kept)
    labels = (
        torch.from_numpy(np.asarray(layout.labels, dtype=np.int64)[index])
        if layout.class_names
        else torch.full((len(index),), -1, dtype=torch.int64)
    )
    return FolderItems(
        [str(layout.files[i]) for i in index],
        labels,
        size=target,
        channels=3 if channels[3] else 1,
        class_names=layout.class_names,
        name=layout.root.name or str(layout.root),
        notes=notes,
    )


def stack_images(items: list[tuple[Tensor, Tensor]]) -> Tensor:
    """Collate for methods that take images only. Returns: uint8 (B, C, H, W)."""
    return torch.stack([image for image, _ in items])


def stack_labelled(items: list[tuple[Tensor, Tensor]]) -> tuple[Tensor, Tensor]:
    """Collate for methods that need labels. Returns: uint8 (B, C, H, W), int64 (B,)."""
    return torch.stack([image for image, _ in items]), torch.stack([label for _, label in items])


def decode_items(
    items: Dataset[tuple[Tensor, Tensor]], *, workers: int, batch_size: int = 256
) -> tuple[Tensor, Tensor]:
    """Decode every item, in order, with `workers` loader processes.

    Returns:
        uint8 images (N, C, H, W) and int64 labels (N,).
    """
    loader = DataLoader(
        items, batch_size=batch_size, num_workers=workers, collate_fn=stack_labelled
    )
    parts = list(loader)
    return torch.cat([x for x, _ in parts]), torch.cat([y for _, y in parts])
