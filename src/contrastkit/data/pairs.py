"""Paired data for two-tower training: an image or audio clip and its text, by split.

Each sample carries a group id: samples whose texts mean the same thing (the same digit,
word, or caption) share it. The losses treat equal ids as positives, retrieval counts an
item as relevant when its id equals the query's, and zero-shot classification scores the
prompts of each id.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor


@dataclass(frozen=True)
class PairSplit:
    """One split of (x, text) pairs.

    Attributes:
        x: Images uint8 (N, C, H, W) or log-mel spectrograms float (N, 1, M, T).
        texts: The text of each sample (N strings).
        ids: Group id of each sample; equal ids mean the same thing. Shape: (N,), int64.
        prompts: Zero-shot prompts of each id (empty when the split has no classes).
        languages: The language of each sample's text (N codes), or empty when the data
            does not say; equal ids in different languages are the same concept.
    """

    x: Tensor
    texts: list[str]
    ids: Tensor
    prompts: dict[int, list[str]] = field(default_factory=dict)
    languages: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        n = self.x.shape[0]
        if len(self.texts) != n or self.ids.shape != (n,) or len(self.languages) not in (0, n):
            raise ValueError(
                f"x {tuple(self.x.shape)}, {len(self.texts)} texts, ids "
                f"{tuple(self.ids.shape)} and {len(self.languages)} languages must have the "
                "same length (no languages: 0)"
            )

    def unique_texts(self) -> tuple[list[str], Tensor]:
        """Each distinct text once (first occurrence order) and its id. Shape of ids: (U,)."""
        seen: dict[str, int] = {}
        for text, idx in zip(self.texts, self.ids.tolist(), strict=True):
            seen.setdefault(text, idx)
        return list(seen), torch.tensor(list(seen.values()), dtype=torch.int64)

    def one_per_group(self, n: int) -> list[int]:
        """A sample index for each of the first `n` groups (split order): its first sample,
        or with several languages its first in the k-th language in turn (the k-th group),
        so the picture of a multilingual split shows every language."""
        ids = self.ids.tolist()
        languages = sorted(set(self.languages)) or [""]
        first: dict[tuple[int, str], int] = {}
        for i, (idx, lang) in enumerate(zip(ids, self.languages or [""] * len(ids), strict=True)):
            first.setdefault((idx, ""), i)
            first.setdefault((idx, lang), i)
        groups = list(dict.fromkeys(ids))[:n]
        return [
            first.get((g, languages[k % len(languages)]), first[(g, "")])
            for k, g in enumerate(groups)
        ]

    def unique_texts_by_language(self) -> tuple[list[str], Tensor, list[str]]:
        """Each distinct (text, language) once, first occurrence order: the texts, their
        ids (Shape: (U,)) and their languages (the same word in two languages is two)."""
        seen: dict[tuple[str, str], int] = {}
        for text, lang, idx in zip(self.texts, self.languages, self.ids.tolist(), strict=True):
            seen.setdefault((text, lang), idx)
        ids = torch.tensor(list(seen.values()), dtype=torch.int64)
        return [t for t, _ in seen], ids, [lang for _, lang in seen]


@dataclass(frozen=True)
class PairData:
    """A training split and named test splits (e.g. held-out words, held-out voices);
    `skipped` counts bad input files left out with `skip_bad`; `input_stats` is the
    (mean, std) the inputs were standardised with (spectrograms), so that new inputs and an
    export match training."""

    name: str
    modality: str
    train: PairSplit
    tests: dict[str, PairSplit]
    skipped: int = 0
    input_stats: tuple[float, float] | None = None

    def describe(self) -> str:
        sizes = ", ".join(f"{len(s.texts)} {name}" for name, s in self.tests.items())
        shape = tuple(self.train.x.shape[1:])
        languages = sorted(set(self.train.languages))
        return (
            f"data: {self.name}, {len(self.train.texts)} train pairs {shape}"
            f" ({len(set(self.train.texts))} distinct texts, "
            f"{int(self.train.ids.unique().numel())} groups"
            + (f", languages {' '.join(languages)}" if len(languages) > 1 else "")
            + f"); test: {sizes}"
            + (f"; skipped {self.skipped} bad files" if self.skipped else "")
        )
