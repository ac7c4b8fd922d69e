"""The modalities, listed once: `data.source` -> the modality that reads it.

Adding a modality is one package under `modalities/` and one line here.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from rich.table import Table

from contrastkit.errors import UserError
from contrastkit.modalities.base import Modality, Settings
from contrastkit.modalities.images import ImageModality
from contrastkit.modalities.interactions import InteractionModality
from contrastkit.modalities.metrics_table import MetricsTable
from contrastkit.modalities.pairs import PairModality
from contrastkit.modalities.tables import TableModality
from contrastkit.modalities.text import TextModality

MODALITIES: tuple[type[Modality], ...] = (
    ImageModality,
    PairModality,
    TextModality,
    TableModality,
    InteractionModality,
)


def all_sources() -> list[str]:
    """Every `data.source` value, in registry order."""
    return [source for modality in MODALITIES for source in modality.sources]


def modality_class(source: str) -> type[Modality]:
    """The modality that reads `source`.

    Raises:
        UserError: no modality reads it (names the nearest source and the known ones).
    """
    for modality in MODALITIES:
        if source in modality.sources:
            return modality
    known = all_sources()
    close = difflib.get_close_matches(source, known, n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise UserError(f"data.source: unknown source {source!r}{hint} (known: {', '.join(known)})")


def modality_for(settings: Settings) -> Modality:
    """The modality of a run's settings (nothing is read yet)."""
    return modality_class(settings.data.source)(settings)


def source_of(path: str) -> str:
    """The `data.source` of `train --data PATH`: what the first modality that claims the
    path reads it as (a folder of images, a CSV or Parquet table, a text file, ...).

    Raises:
        UserError: no such path, or no modality reads it (says what each one takes).
    """
    where = Path(path).expanduser()
    if not where.exists():
        raise UserError(f"--data {path}: no such file or folder")
    for modality in MODALITIES:
        source = modality.claims(where)
        if source is not None:
            return source
    kind = f"a {where.suffix} file" if where.suffix else "a suffix-less file"
    raise UserError(
        f"--data {path}: {kind}; expected a folder of images (PNG/JPEG/BMP, one subfolder per "
        "class or flat), a CIFAR python folder, a .npy/.npz file, a table (.csv, .parquet), "
        "or text (.txt: one sentence per line; .jsonl or .csv with anchor,positive pairs)"
    )


def metrics_tables(metrics: dict[str, Any], name: str = "") -> list[tuple[MetricsTable, Table]]:
    """Every modality's table whose block `metrics` holds and which has something to show,
    rendered, in registry order; `name` (a run) prefixes the titles."""
    rendered = (
        (table, table.render(metrics, name))
        for modality in MODALITIES
        for table in modality.tables
        if table.block in metrics
    )
    return [(table, shown) for table, shown in rendered if shown is not None]
