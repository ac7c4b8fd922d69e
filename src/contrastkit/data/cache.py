"""A decoded-image cache on disk: decode a folder once, memory-map it afterwards.

The key is a hash of the folder's file list (relative path, size, modification time) and
the read options, so adding, removing or editing a file makes a new entry. An entry is
`<key>.npy` (uint8 (N, C, H, W), memory-mapped copy-on-write when read) and `<key>.json`
(labels, class names, paths, notes).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from contrastkit.atomic import write_atomic, write_json_atomic
from contrastkit.data.folder import FolderLayout
from contrastkit.data.imageset import ImageSet

CACHE_VERSION = 1


def default_cache_dir() -> Path:
    """`$XDG_CACHE_HOME/contrastkit/decoded`, or `~/.cache/contrastkit/decoded`."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "contrastkit" / "decoded"


def cache_key(layout: FolderLayout, *, skip_bad: bool, image_size: int | None) -> str:
    """Hex digest naming a folder's current files and the read options."""
    stats = []
    for path in layout.files:
        st = path.stat()
        stats.append([str(path.relative_to(layout.root)), st.st_size, st.st_mtime_ns])
    blob = json.dumps(
        [CACHE_VERSION, str(layout.root.resolve()), skip_bad, image_size, stats]
    ).encode()
    return hashlib.sha256(blob).hexdigest()[:32]


def cached_decode(
    layout: FolderLayout,
    decode: Callable[[], ImageSet],
    *,
    cache_dir: Path,
    skip_bad: bool,
    image_size: int | None,
) -> ImageSet:
    """The `ImageSet` of `layout` from the cache, or `decode()` it and store it."""
    key = cache_key(layout, skip_bad=skip_bad, image_size=image_size)
    array_path, meta_path = cache_dir / f"{key}.npy", cache_dir / f"{key}.json"
    broken: list[str] = []
    if array_path.is_file() and meta_path.is_file():
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            images = np.load(array_path, mmap_mode="c")  # pages are read on first use
            return ImageSet(
                images=torch.from_numpy(images),
                labels=torch.tensor(meta["labels"], dtype=torch.int64),
                class_names=list(meta["class_names"]),
                paths=list(meta["paths"]),
                name=str(meta["name"]),
                notes=[*meta["notes"], f"decoded images memory-mapped from the cache {array_path}"],
            )
        except (OSError, ValueError, EOFError, KeyError, TypeError, RuntimeError) as err:
            # ours to rebuild: a cut-short or altered cache file is decoded again
            broken.append(f"the cache {array_path} was unreadable ({type(err).__name__}); rebuilt")
    data = decode()
    write_atomic(array_path, lambda handle: np.save(handle, data.images.numpy()))
    write_json_atomic(
        meta_path,
        {
            "labels": data.labels.tolist(),
            "class_names": data.class_names,
            "paths": data.paths,
            "name": data.name,
            "notes": data.notes,
        },
    )
    return replace(data, notes=[*data.notes, *broken, f"decoded images cached in {array_path}"])
