"""The catalog of a run: its named index or its own data embedded, what a person reads for
each row, and where the pictures of image rows come from (the run's images in memory, or the
files under `data.path`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from torch import nn

from contrastkit.serve.catalog import Catalog, ExactIndex, NamedIndexSearch
from contrastkit.serve.videos import VideoShelf

INDEXES_DIR = "indexes"


def run_catalog(
    run: Path, modality: Any, method: nn.Module, index: str | None, log: Callable[[str], None]
) -> Catalog:
    """The named index `index` of `<run>/indexes/`, else the run's data embedded now."""
    if index is not None:
        from contrastkit.index.store import load_index
        from contrastkit.rundir import CHECKPOINT, model_fingerprint

        fingerprint = model_fingerprint(run / CHECKPOINT)
        named = load_index(run / INDEXES_DIR, index, expect_fingerprint=fingerprint)
        sources = list(named.ids)
        videos = VideoShelf.of(named)
        pictures = None if videos is not None else modality.pictures(sources)
        return Catalog(NamedIndexSearch(named), sources, index, pictures, videos, shown=named.shown)
    log("no --index: embedding the run's own data into an exact in-memory index")
    embedded = modality.embed(method, "train", log)
    sources = list(embedded.ids)
    return Catalog(
        ExactIndex(embedded.vectors.numpy()),
        sources,
        embedded.name,
        modality.pictures(sources),
        shown=embedded.shown,
    )
