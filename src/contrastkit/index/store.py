"""Named indexes on disk: several per run, none replaced without `overwrite`.

Layout of one index, ``<root>/<name>/``:
    * ``index.faiss``: the FAISS index (FAISS's own binary format; nothing is unpickled);
    * ``ids.json``: one string id per row (file path, CSV row number, line number, ...);
    * optionally ``shown.json``: what a person reads for each row beside its id (the line's
      sentence, a table row's leading columns, an image's name in its folder);
    * ``meta.json``: ``{"format", "kind", "dim", "count", "metric", "fingerprint",
      "created", "recall_at_10", "params", "info"}``; `fingerprint` is a string given by the
      caller that names the model that made the vectors (e.g. a hash of the checkpoint),
      and `recall_at_10` is measured against exact search when the index is approximate;
    * optionally a JPEG thumbnail per row (`index/thumbnails.py`; video frames).

A save writes the three files into a hidden temporary folder next to the final one and
then renames it into place, so a crash never leaves a half-written index under its name.

Example:
    >>> built = build_index(batches, dim=128)
    >>> save_index(root, "train", built, ids, fingerprint="ckpt:3f2a...")
    >>> named = load_index(root, "train", expect_fingerprint="ckpt:3f2a...")
    >>> scores, ids = search(named, queries, k=10)
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from contrastkit.atomic import cannot_write, umask, writable_folder
from contrastkit.errors import UserError
from contrastkit.index.ann import BuiltIndex, apply_params
from contrastkit.index.ann import search_rows as _search_rows
from contrastkit.index.thumbnails import write_thumbnails
from contrastkit.temporaries import make_temp_dir, replace_folder

FORMAT = 1
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
INDEX_FILE, IDS_FILE, META_FILE = "index.faiss", "ids.json", "meta.json"
SHOWN_FILE = "shown.json"


@dataclass
class NamedIndex:
    """A loaded index with its row ids and metadata.

    Attributes:
        name: The folder name under the root.
        index: The FAISS index, search parameters applied.
        ids: One string id per row, Shape: (N,) as a list.
        meta: The `meta.json` record.
        folder: Where it is on disk.
        shown: What a person reads for each row beside its id, or None (the id says it).
    """

    name: str
    index: faiss.Index
    ids: list[str]
    meta: dict[str, Any]
    folder: Path
    shown: list[str] | None = None

    @property
    def count(self) -> int:
        return int(self.index.ntotal)


def check_name(name: str) -> str:
    """An index name: letters, digits, '.', '_' or '-', starting with a letter or digit.

    Raises:
        UserError: The name could escape the root or hide the index.
    """
    if not NAME_PATTERN.match(name):
        raise UserError(
            f"index name {name!r}: use 1-100 letters, digits, '.', '_' or '-', starting "
            "with a letter or digit"
        )
    return name


def save_index(
    root: Path,
    name: str,
    built: BuiltIndex,
    ids: list[str],
    *,
    fingerprint: str,
    overwrite: bool = False,
    info: dict[str, Any] | None = None,
    thumbnails: list[bytes] | None = None,
    shown: list[str] | None = None,
) -> Path:
    """Write `built` and its row ids as ``<root>/<name>/`` (temporary folder, then rename).

    Args:
        root: The folder holding the named indexes (e.g. ``<run>/indexes``).
        name: The index name (see `check_name`).
        built: From `contrastkit.index.ann.build_index`.
        ids: One id per vector, in the order of the stream the index was built from
            (reordered here by `built.positions` to the index's rows).
        fingerprint: Names the model/run that made the vectors; `load_index` checks it.
        overwrite: Replace an existing index of that name.
        info: JSON-serialisable facts a query needs to be read as the entries were (e.g.
            the image size, which side of a paired run), kept as `meta.json`'s "info".
        thumbnails: A JPEG per vector, in the order of `ids` (video frames), or None.
        shown: What a person reads for each vector beside its id, in the order of `ids`.

    Returns:
        The index folder.

    Raises:
        UserError: The name exists and `overwrite` is False, or the name is invalid.
        ValueError: `ids`, `thumbnails` or `shown` and the index differ in length.
    """
    check_name(name)
    if thumbnails is not None and len(thumbnails) != built.count:
        raise ValueError(f"{len(thumbnails)} thumbnails for an index of {built.count} vectors")
    final = root / name
    if final.exists() and not overwrite:
        raise UserError(
            f"{final}: an index named {name!r} exists; choose another --name or pass "
            "--overwrite to replace it"
        )
    named = in_memory(root, name, built, ids, fingerprint=fingerprint, info=info, shown=shown)
    writable_folder(root)
    tmp = make_temp_dir(root, name)
    try:
        _write_files(tmp, named)
        if thumbnails is not None:
            order = built.positions if len(built.positions) else np.arange(len(ids))
            write_thumbnails(tmp, [thumbnails[int(p)] for p in order])
        os.chmod(tmp, 0o777 & ~umask())
        replace_folder(tmp, final)
    except OSError as err:
        shutil.rmtree(tmp, ignore_errors=True)
        raise cannot_write(final, err, kept=_kept(final)) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def _kept(final: Path) -> str:
    return f"the index already at {final} is unchanged" if final.exists() else ""


def in_memory(
    root: Path,
    name: str,
    built: BuiltIndex,
    ids: list[str],
    *,
    fingerprint: str,
    info: dict[str, Any] | None = None,
    shown: list[str] | None = None,
) -> NamedIndex:
    """The index `save_index` would write as `<root>/<name>/`, held in memory only
    (arguments as there; nothing is written).

    Raises:
        ValueError: `ids` (or `shown`) and the index differ in length.
    """
    if {len(rows) for rows in (ids, shown) if rows is not None} != {built.count}:
        raise ValueError(f"{len(ids)} ids (or shown texts) for an index of {built.count} vectors")
    order = built.positions if len(built.positions) else np.arange(len(ids))
    meta = {
        "format": FORMAT,
        "kind": built.kind,
        "dim": built.dim,
        "count": built.count,
        "metric": "cosine",
        "fingerprint": fingerprint,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "recall_at_10": built.recall_at_10,
        "params": dict(built.params),
        "info": dict(info or {}),
    }
    texts = None if shown is None else [str(shown[int(p)]) for p in order]
    ordered = [str(ids[int(p)]) for p in order]
    return NamedIndex(name, built.index, ordered, meta, root / name, texts)


def _write_files(folder: Path, named: NamedIndex) -> None:
    """The files of an index into `folder` (`shown.json` when it has shown texts).

    Raises:
        OSError: a file cannot be written (FAISS's own failure is turned into one).
    """
    try:
        faiss.write_index(named.index, str(folder / INDEX_FILE))
    except RuntimeError as err:  # FAISS reports a failed write (a full disk) this way
        raise OSError(errno.ENOSPC if "No space" in str(err) else errno.EIO, str(err)) from None
    (folder / IDS_FILE).write_text(json.dumps(named.ids))
    if named.shown is not None:
        (folder / SHOWN_FILE).write_text(json.dumps(named.shown))
    (folder / META_FILE).write_text(json.dumps(named.meta, indent=2) + "\n")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise UserError(f"{path}: cannot read this index file ({err})") from None


def list_indexes(root: Path) -> list[dict[str, Any]]:
    """The `meta.json` records of the indexes under `root`, by name, each with its "name".
    Hidden (temporary) folders and folders without `meta.json` are skipped."""
    if not root.is_dir():
        return []
    found = []
    for folder in sorted(root.iterdir()):
        if folder.name.startswith(".") or not (folder / META_FILE).is_file():
            continue
        found.append({"name": folder.name, **_read_json(folder / META_FILE)})
    return found


def load_index(root: Path, name: str, *, expect_fingerprint: str | None) -> NamedIndex:
    """Read ``<root>/<name>/`` and check it was built by the model named by
    `expect_fingerprint` (None skips the check).

    Raises:
        UserError: No such index (the existing names are listed), a file is missing,
            damaged or inconsistent, or the fingerprint differs.
    """
    check_name(name)
    folder = root / name
    if not (folder / META_FILE).is_file():
        names = [m["name"] for m in list_indexes(root)]
        have = ", ".join(names) if names else "none"
        raise UserError(f"{folder}: no index named {name!r} (indexes here: {have})")
    meta = _read_json(folder / META_FILE)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise UserError(f"{folder / META_FILE}: not a contrastkit index (format {FORMAT})")
    if expect_fingerprint is not None and meta.get("fingerprint") != expect_fingerprint:
        raise UserError(
            f"{folder}: index {name!r} was built by another model/run (fingerprint "
            f"{meta.get('fingerprint')!r}, this run {expect_fingerprint!r}): rebuild it with "
            f"`contrastkit index --run <run> --data <data> --name {name} --overwrite`"
        )
    if not (folder / INDEX_FILE).is_file():
        raise UserError(f"{folder / INDEX_FILE}: missing; rebuild the index")
    try:
        index = faiss.read_index(str(folder / INDEX_FILE))
    except RuntimeError:  # FAISS's own error names its C++ source line, not the problem
        raise UserError(
            f"{folder / INDEX_FILE}: the index is damaged (FAISS cannot read it); rebuild it "
            f"with `contrastkit index --run {root.parent} --name {name} --data <its data> "
            "--overwrite`"
        ) from None
    ids = _read_json(folder / IDS_FILE)
    if not isinstance(ids, list) or len(ids) != index.ntotal or meta.get("count") != len(ids):
        raise UserError(
            f"{folder}: {IDS_FILE} has {len(ids) if isinstance(ids, list) else '?'} ids, the "
            f"index {index.ntotal} vectors and {META_FILE} count {meta.get('count')}; rebuild it"
        )
    if index.d != meta.get("dim"):
        raise UserError(f"{folder}: index dim {index.d} but {META_FILE} says {meta.get('dim')}")
    apply_params(index, {k: int(v) for k, v in meta.get("params", {}).items() if k != "nlist"})
    shown = _read_json(folder / SHOWN_FILE) if (folder / SHOWN_FILE).is_file() else None
    if shown is not None and (not isinstance(shown, list) or len(shown) != len(ids)):
        raise UserError(f"{folder / SHOWN_FILE}: not one text per row of the index; rebuild it")
    texts = None if shown is None else [str(t) for t in shown]
    return NamedIndex(name, index, [str(i) for i in ids], meta, folder, texts)


def check_queries(named: NamedIndex, queries: np.ndarray) -> np.ndarray:
    """`queries` as an array. Shape: (Q, D) of the index's D.

    Raises:
        UserError: The queries' size differs from the index's.
    """
    q = np.asarray(queries)
    if q.ndim != 2 or q.shape[1] != named.index.d:
        raise UserError(
            f"queries have shape {q.shape} but index {named.name!r} holds "
            f"{named.index.d}-d vectors: embed the queries with the model that built it"
        )
    return q


def search_rows(
    named: NamedIndex, queries: np.ndarray, k: int
) -> tuple[np.ndarray, list[list[int]]]:
    """`search`, with the index rows of the hits instead of their ids."""
    q = check_queries(named, queries)
    scores, rows = _search_rows(named.index, q, k)
    scores = np.where(rows >= 0, scores, np.nan).astype(np.float32)
    return scores, [[int(r) for r in row if r >= 0] for row in rows]


def search(named: NamedIndex, queries: np.ndarray, k: int) -> tuple[np.ndarray, list[list[str]]]:
    """The k most cosine-similar rows of each query, best first.

    Args:
        named: From `load_index`.
        queries: Shape: (Q, D), embeddings from the same model (normalised here).
        k: Hits per query (at most the index size).

    Returns:
        `(scores, ids)`: Shape: (Q, k') cosine similarities (k' = min(k, N)) and Q lists of
        row ids; an approximate index may return fewer than k' hits for a query, and then
        the missing scores are NaN.

    Raises:
        UserError: The queries' size differs from the index's.
    """
    scores, rows = search_rows(named, queries, k)
    return scores, [[named.ids[r] for r in row] for row in rows]
