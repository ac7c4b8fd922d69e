"""The spoken-word concepts in each language and the espeak-ng voices that speak them.

`concepts.csv` (package data) lists 84 concepts, each with its own word or short phrase in
English, German, French and Spanish, written by hand: one everyday sense per concept, each
short enough to be spoken within one second, and no two concepts with the same text in one
language (French "argent" is money, so silver is the adjective "argenté", as golden is
"doré"). The concept key is the English text.

Each language has 8 voices: an espeak-ng accent of that language and a voice variant
(`+m1` ... `+f4`). The variants are the same in every language and in the same order, so
the last ones (`+m4`, `+f3`), the held-out voices by default, are spoken by no training
voice of any language. Every voice speaks differently (checked by a test): espeak-ng 1.51
ignores the variant of `fr-fr+m1` and speaks `fr-be` and `fr-ch` words like `fr`, so
French uses `fr` with its variants; German has one accent, `de`.
"""

from __future__ import annotations

import csv
import io
from functools import cache
from importlib import resources

LANGUAGES: tuple[str, ...] = ("en", "de", "fr", "es")
"""The languages of the concept table (espeak-ng language codes)."""

VOICES: dict[str, tuple[str, ...]] = {
    "en": (
        "en-us+m1",
        "en-gb+f2",
        "en-gb-scotland+m3",
        "en-029+f4",
        "en-gb-x-rp+m2",
        "en-us-nyc+f1",
        "en-gb-x-gbclan+m4",
        "en-gb-x-gbcwmd+f3",
    ),
    "de": ("de+m1", "de+f2", "de+m3", "de+f4", "de+m2", "de+f1", "de+m4", "de+f3"),
    "fr": ("fr+m1", "fr+f2", "fr+m3", "fr+f4", "fr+m2", "fr+f1", "fr+m4", "fr+f3"),
    "es": ("es+m1", "es-419+f2", "es+m3", "es-419+f4", "es+m2", "es-419+f1", "es+m4", "es-419+f3"),
}
"""espeak-ng voices (accent + variant) of each language; the last ones are held out."""


@cache
def concept_table() -> dict[str, dict[str, str]]:
    """Concept key -> {language: its text}, in the order of `concepts.csv`.

    Raises:
        ValueError: the table lacks a language, a text is empty, or two concepts share a
            text in one language (the package data is broken).
    """
    text = resources.files("contrastkit.audio").joinpath("concepts.csv").read_text("utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    table = {row["concept"]: {lang: row.get(lang) or "" for lang in LANGUAGES} for row in rows}
    for lang in LANGUAGES:
        texts = [words[lang] for words in table.values()]
        if not all(texts) or len(set(texts)) != len(texts):
            raise ValueError(
                f"concepts.csv: the {lang!r} column must hold distinct, non-empty texts"
            )
    return table
