"""What the service searches: the index (its vectors and row sources), the public id of
each row (`contrastkit.serve.ids`), and the pictures of image rows for `/thumb/{id}`.

The index is a named index from `<run>/indexes/<name>/` (`contrastkit.index.store`) when
asked for, else an exact in-memory index of the run's own data embedded at startup
(`modality.embed(method, 'train')`). Either way a row's source (a file path, `digits[7]`,
`train:3`) stays inside the service: clients see opaque ids beside what a person reads for
the row (its sentence, a table row's id and leading columns, an image's name relative to
its data folder), and a thumbnail is read only for a row of the index, from the pixels the
run's data holds in memory or from the row's own file when that file lies under the run's
`data.path`.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image
from torch import Tensor

from contrastkit.errors import UserError
from contrastkit.modalities.pictures import Pictures
from contrastkit.serve.ids import ItemIds
from contrastkit.serve.videos import VideoShelf

THUMB_SIZE = 96
"""Thumbnails are scaled up (nearest) or down (antialiased) so the longer side is this."""


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)).astype(np.float32)


class ExactIndex:
    """Cosine search over all rows. Shape: vectors (N, D)."""

    def __init__(self, vectors: np.ndarray) -> None:
        if vectors.ndim != 2 or len(vectors) == 0:
            raise UserError(f"the index is empty or not (N, D): shape {vectors.shape}")
        self.vectors = _unit(np.asarray(vectors, dtype=np.float32))

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def __len__(self) -> int:
        return int(self.vectors.shape[0])

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Shape: (Q, D) -> scores (Q, k'), rows (Q, k'), best first, k' = min(k, N)."""
        sims = _unit(queries) @ self.vectors.T  # (Q, N)
        k = min(k, len(self))
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        order = np.take_along_axis(sims, top, axis=1).argsort(axis=1)[:, ::-1]
        rows = np.take_along_axis(top, order, axis=1)
        return np.take_along_axis(sims, rows, axis=1), rows

    def vector(self, row: int) -> np.ndarray:
        return self.vectors[row]


class NamedIndexSearch:
    """A named index (`contrastkit.index.store`) behind the same interface."""

    def __init__(self, named: Any) -> None:
        self.named = named
        self.row_of = {source: row for row, source in enumerate(named.ids)}

    @property
    def dim(self) -> int:
        return int(self.named.index.d)

    def __len__(self) -> int:
        return int(self.named.count)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        from contrastkit.index.store import search

        scores, hits = search(self.named, _unit(queries), min(k, len(self)))
        rows = np.array([[self.row_of[h] for h in hit] for hit in hits], dtype=np.int64)
        return scores[:, : rows.shape[1]], rows

    def vector(self, row: int) -> np.ndarray:
        try:
            return np.asarray(self.named.index.reconstruct(int(row)), dtype=np.float32)
        except RuntimeError:
            raise UserError("this index kind cannot return a stored vector") from None


@dataclass
class Catalog:
    """The index, its rows' sources and ids, and the rows' pictures.

    Attributes:
        index: `ExactIndex` or `NamedIndexSearch`.
        sources: One source per row (never sent to a client).
        name: What the index is (the data's or the named index's name).
        pictures: Row -> image, or None for an index of non-images.
        videos: The scenes, thumbnails and videos of an index of video frames, else None.
        shown: What a person reads for each row (the sentence, the row's id and leading
            columns, the image's name in its data folder), or None (an index without it).
    """

    index: Any
    sources: list[str]
    name: str
    pictures: Pictures | None = None
    videos: VideoShelf | None = None
    shown: list[str] | None = None
    ids: ItemIds = field(init=False)
    _thumbs: dict[int, bytes] = field(init=False, default_factory=dict)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if len(self.sources) != len(self.index):
            raise ValueError(f"{len(self.sources)} sources for {len(self.index)} rows")
        if self.shown is not None and len(self.shown) != len(self.index):
            raise ValueError(f"{len(self.shown)} shown texts for {len(self.index)} rows")
        self.ids = ItemIds(self.sources)

    @property
    def has_pictures(self) -> bool:
        return self.pictures is not None or self.videos is not None

    def shown_of(self, row: int) -> str | None:
        """What a person reads for row `row`, or None when the index does not say."""
        return None if self.shown is None else self.shown[row]

    def thumbnail(self, row: int) -> bytes | None:
        """PNG bytes of row `row`'s picture (cached; a video frame's JPEG as the index keeps
        it), or None."""
        if self.videos is not None:
            return self.videos.thumbnail(row)
        if self.pictures is None:
            return None
        with self._lock:
            cached = self._thumbs.get(row)
        if cached is not None:
            return cached
        image = self.pictures(row)
        if image is None:
            return None
        png = png_thumbnail(image)
        with self._lock:
            if len(self._thumbs) < 10_000:
                self._thumbs[row] = png
        return png


def png_thumbnail(image: Tensor, size: int = THUMB_SIZE) -> bytes:
    """uint8 (C, H, W), C in {1, 3} -> PNG bytes with the longer side `size`."""
    array = image.permute(1, 2, 0).numpy()
    pil = Image.fromarray(array[..., 0] if array.shape[2] == 1 else array)
    w, h = pil.size
    scale = size / max(w, h)
    resample = Image.Resampling.NEAREST if scale >= 1 else Image.Resampling.LANCZOS
    pil = pil.resize((max(1, round(w * scale)), max(1, round(h * scale))), resample)
    buffer = io.BytesIO()
    pil.save(buffer, format="PNG")
    return buffer.getvalue()
