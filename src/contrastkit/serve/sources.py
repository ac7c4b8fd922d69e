"""The catalog of a run: its named index or its own data embedded, and where the pictures
of image rows come from (the run's images in memory, or the files under `data.path`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from contrastkit.serve.catalog import (
    Catalog,
    ExactIndex,
    NamedIndexSearch,
    Pictures,
    file_pictures,
    memory_pictures,
)

INDEXES_DIR = "indexes"


def pictures_of(modality: Any, sources: list[str]) -> Pictures | None:
    """Row pictures for an image run or an image-text run; None for other data."""
    from contrastkit.modalities.images.modality import ImageModality
    from contrastkit.modalities.images.sources import lazy_folder_items, load_image_set
    from contrastkit.modalities.pairs.modality import PairModality

    if isinstance(modality, ImageModality):
        data = modality.settings.data
        if lazy_folder_items(data) is not None:
            return file_pictures(sources, data.path)
        images = load_image_set(data)
        return memory_pictures(images.images, images.paths, sources)
    if isinstance(modality, PairModality) and not modality.speech:
        pairs = modality.data
        splits = {"train": pairs.train, **pairs.tests}
        xs = torch.cat([s.x for s in splits.values()])
        names = [f"{name}:{i}" for name, s in splits.items() for i in range(len(s.texts))]
        return memory_pictures(xs, names, sources)
    return None


def run_catalog(
    run: Path, modality: Any, method: nn.Module, index: str | None, log: Callable[[str], None]
) -> Catalog:
    """The named index `index` of `<run>/indexes/`, else the run's data embedded now."""
    if index is not None:
        from contrastkit.index.store import load_index

        named = load_index(run / INDEXES_DIR, index, expect_fingerprint=None)
        sources = list(named.ids)
        return Catalog(NamedIndexSearch(named), sources, index, pictures_of(modality, sources))
    log("no --index: embedding the run's own data into an exact in-memory index")
    embedded = modality.embed(method, "train", log)
    sources = list(embedded.ids)
    return Catalog(
        ExactIndex(embedded.vectors.numpy()),
        sources,
        embedded.name,
        pictures_of(modality, sources),
    )
