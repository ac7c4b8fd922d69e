"""The modalities, listed once: `data.source` -> the modality that reads it.

Adding a modality is one package under `modalities/` and one line here.
"""

from __future__ import annotations

import difflib

from contrastkit.errors import UserError
from contrastkit.modalities.base import Modality, Settings
from contrastkit.modalities.images import ImageModality
from contrastkit.modalities.interactions import InteractionModality
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
