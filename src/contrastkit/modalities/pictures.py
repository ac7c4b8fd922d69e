"""Pictures of index rows (the search page's thumbnails): read from the rows' own files
under the run's data folder, or taken from images held in memory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor

from contrastkit.data.decode import BadImage, decode_image

Pictures = Callable[[int], Tensor | None]
"""Index row -> uint8 (C, H, W), or None when the row has no picture."""


def file_pictures(sources: list[str], root: str | None) -> Pictures:
    """Pictures read from the rows' own files, only for files under `root` (the run's
    `data.path`); a source that resolves elsewhere (a link out, `..`) has no picture."""
    base = Path(root).expanduser().resolve() if root else None

    def picture(row: int) -> Tensor | None:
        if base is None:
            return None
        path = Path(sources[row]).resolve()
        if not path.is_relative_to(base) or not path.is_file():
            return None
        try:
            pixels, _ = decode_image(path)
        except BadImage:
            return None
        return torch.from_numpy(pixels.transpose(2, 0, 1).copy())  # owned, writable, C order

    return picture


def memory_pictures(images: Tensor, sources: list[str], index_sources: list[str]) -> Pictures:
    """Pictures held in memory (`images` with one `sources` entry each), looked up by the
    index row's source."""
    position = {s: i for i, s in enumerate(sources)}

    def picture(row: int) -> Tensor | None:
        i = position.get(index_sources[row])
        return None if i is None else images[i]

    return picture
