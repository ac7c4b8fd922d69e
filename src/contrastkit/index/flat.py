"""An exact cosine-similarity index (FAISS `IndexFlatIP` over L2-normalised embeddings),
saved as two files: `<stem>.faiss` (the vectors) and `<stem>.json` (one source per row and
what the index was built from)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import torch
import torch.nn.functional as F

from contrastkit.atomic import write_atomic, write_json_atomic
from contrastkit.errors import UserError


@dataclass
class FlatIndex:
    """Embeddings and where each came from; `search` returns cosine similarities.

    Attributes:
        vectors: Shape: (N, D), float32, rows L2-normalised.
        sources: N strings (file paths), one per row.
        info: What the index was built from (data path, image shape, ...).
    """

    vectors: np.ndarray
    sources: list[str]
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.vectors.ndim != 2 or len(self.sources) != self.vectors.shape[0]:
            raise ValueError(
                f"vectors must be (N, D) with N = {len(self.sources)} sources, got "
                f"{self.vectors.shape}"
            )

    @classmethod
    def from_embeddings(
        cls, z: torch.Tensor, sources: list[str], info: dict[str, Any] | None = None
    ) -> FlatIndex:
        """z: Shape: (N, D); rows are L2-normalised here."""
        vectors = F.normalize(z.float(), dim=1).numpy().astype(np.float32)
        return cls(np.ascontiguousarray(vectors), list(sources), dict(info or {}))

    def search(self, query: torch.Tensor, k: int) -> list[list[tuple[str, float]]]:
        """The `k` most cosine-similar rows of each query, best first.

        Args:
            query: Shape: (Q, D).

        Returns:
            Q lists of (source, cosine similarity).
        """
        if query.ndim != 2 or query.shape[1] != self.vectors.shape[1]:
            raise ValueError(
                f"query must be (Q, {self.vectors.shape[1]}), got {tuple(query.shape)}"
            )
        index = faiss.IndexFlatIP(self.vectors.shape[1])
        index.add(self.vectors)
        q = np.ascontiguousarray(F.normalize(query.float(), dim=1).numpy().astype(np.float32))
        sims, ids = index.search(q, min(k, len(self.sources)))
        return [
            [(self.sources[int(i)], float(s)) for s, i in zip(row_s, row_i, strict=True)]
            for row_s, row_i in zip(sims, ids, strict=True)
        ]

    def save(self, stem: Path) -> None:
        """Write `<stem>.faiss` and `<stem>.json` atomically."""
        index = faiss.IndexFlatIP(self.vectors.shape[1])
        index.add(self.vectors)
        blob = faiss.serialize_index(index).tobytes()
        write_atomic(stem.with_suffix(".faiss"), lambda handle: handle.write(blob))
        write_json_atomic(stem.with_suffix(".json"), {"sources": self.sources, "info": self.info})

    @classmethod
    def load(cls, stem: Path) -> FlatIndex:
        """Read an index written by `save`.

        Raises:
            UserError: a file is missing or the two do not match.
        """
        vec_path, meta_path = stem.with_suffix(".faiss"), stem.with_suffix(".json")
        if not vec_path.is_file() or not meta_path.is_file():
            raise UserError(f"{vec_path}: no saved index (run `contrastkit embed` first)")
        index = faiss.deserialize_index(np.frombuffer(vec_path.read_bytes(), dtype=np.uint8))
        vectors = index.reconstruct_n(0, index.ntotal)
        meta = json.loads(meta_path.read_text())
        if len(meta["sources"]) != vectors.shape[0]:
            raise UserError(f"{meta_path}: {len(meta['sources'])} sources for {len(vectors)} rows")
        return cls(np.asarray(vectors, dtype=np.float32), meta["sources"], meta.get("info", {}))
