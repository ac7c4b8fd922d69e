"""Small JPEG pictures of an index's rows (the frames of a video index), kept in the index
folder: ``thumbnails.bin`` holds the JPEG files one after the other and
``thumbnails.offsets.npy`` (int64, N + 1) where each starts, so that one row's picture is
read without reading the others and sent as it is.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

BLOB, OFFSETS = "thumbnails.bin", "thumbnails.offsets.npy"


def write_thumbnails(folder: Path, pictures: list[bytes]) -> None:
    """Write one JPEG per row, in row order, into `folder` (a new index's folder)."""
    sizes = np.array([len(p) for p in pictures], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    with (folder / BLOB).open("wb") as handle:
        for picture in pictures:
            handle.write(picture)
    np.save(folder / OFFSETS, offsets)


def has_thumbnails(folder: Path) -> bool:
    return (folder / OFFSETS).is_file() and (folder / BLOB).is_file()


def read_thumbnail(folder: Path, row: int) -> bytes | None:
    """Row `row`'s JPEG, or None when the index keeps no pictures or the row is out of range."""
    if not has_thumbnails(folder):
        return None
    offsets = np.load(folder / OFFSETS, mmap_mode="r", allow_pickle=False)
    if not 0 <= row < len(offsets) - 1:
        return None
    start, stop = int(offsets[row]), int(offsets[row + 1])
    with (folder / BLOB).open("rb") as handle:
        handle.seek(start)
        return handle.read(stop - start)
