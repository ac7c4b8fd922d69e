"""Typed training batches: what a modality's loader yields and a method's `training_loss` reads.

A batch is a frozen dataclass of tensors that share dim 0 (the batch). Loader workers
return one item as a tuple of tensors in field order; `collate` stacks a list of items
(or takes an already batched tuple, from a dataset's `__getitems__`). Optional fields may be
None and are then None in every item.

Example:
    >>> batch = ImageBatch.collate([(img_a, label_a), (img_b, label_b)])
    >>> batch.images.shape    # (2, C, H, W)
    >>> batch = batch.to(torch.device("cuda"), non_blocking=True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from typing import TypeVar

import torch
from torch import Tensor

B = TypeVar("B", bound="Batch")


@dataclass(frozen=True)
class Batch:
    """Base of the typed batches: tensors with a common first dimension."""

    def __post_init__(self) -> None:
        sizes = {
            f.name: int(value.shape[0])
            for f in fields(self)
            if isinstance(value := getattr(self, f.name), Tensor)
        }
        if len(set(sizes.values())) > 1:
            raise ValueError(f"{type(self).__name__}: fields differ in batch size: {sizes}")

    def __len__(self) -> int:
        first = getattr(self, fields(self)[0].name)
        return int(first.shape[0])

    def to(self: B, device: torch.device, *, non_blocking: bool = False) -> B:
        """The same batch with every tensor on `device`."""
        moved = {
            f.name: value.to(device, non_blocking=non_blocking)
            for f in fields(self)
            if isinstance(value := getattr(self, f.name), Tensor)
        }
        return replace(self, **moved)

    def pin_memory(self: B) -> B:
        """The same batch with every CPU tensor in page-locked memory (the DataLoader's
        `pin_memory=True` calls this), so that `.to(cuda, non_blocking=True)` copies
        asynchronously; tensors already on a device stay where they are."""
        pinned = {
            f.name: value.pin_memory()
            for f in fields(self)
            if isinstance(value := getattr(self, f.name), Tensor) and value.device.type == "cpu"
        }
        return replace(self, **pinned)

    def take(self: B, index: Tensor) -> B:
        """Rows `index` of every tensor. index: Shape: (K,), int64 or bool."""
        picked = {
            f.name: value[index]
            for f in fields(self)
            if isinstance(value := getattr(self, f.name), Tensor)
        }
        return replace(self, **picked)

    def items(self) -> tuple[Tensor | None, ...]:
        """The fields in order (what a dataset holds and `collate` takes back)."""
        return tuple(getattr(self, f.name) for f in fields(self))

    @classmethod
    def collate(cls: type[B], items: Sequence[tuple[Tensor | None, ...]]) -> B:
        """Stack per-item tuples (field order) into one batch; None fields stay None."""
        columns = list(zip(*items, strict=True))
        values = [None if column[0] is None else torch.stack(list(column)) for column in columns]
        return cls(*values)


@dataclass(frozen=True)
class ImageBatch(Batch):
    """Images (or log-mel spectrograms) and their labels.

    Attributes:
        images: Shape: (B, C, H, W), uint8 pixels or float.
        labels: Shape: (B,), int64; -1 where an item has no label.
    """

    images: Tensor
    labels: Tensor


@dataclass(frozen=True)
class PairBatch(Batch):
    """Two-tower pairs: an image or a spectrogram with the token ids of its text.

    Attributes:
        inputs: Shape: (B, C, H, W), the non-text tower's input.
        tokens: Shape: (B, L), int64 token ids of the text tower.
        groups: Shape: (B,), int64; items with the same group are positives of each other.
    """

    inputs: Tensor
    tokens: Tensor
    groups: Tensor


@dataclass(frozen=True)
class SentenceBatch(Batch):
    """Tokenised sentences (SimCSE).

    Attributes:
        ids: Shape: (B, L), int64 token ids.
        mask: Shape: (B, L), attention mask (1 = token, 0 = padding).
    """

    ids: Tensor
    mask: Tensor


@dataclass(frozen=True)
class TextPairBatch(Batch):
    """Tokenised (anchor, positive[, hard negative]) triples.

    Attributes:
        anchor_ids, anchor_mask, positive_ids, positive_mask: Shape: (B, L).
        anchor_text, positive_text: Shape: (B,), one numbering of the distinct texts
            (duplicate masking).
        negative_ids, negative_mask: Shape: (B, L), or None without hard negatives.
    """

    anchor_ids: Tensor
    anchor_mask: Tensor
    anchor_text: Tensor
    positive_ids: Tensor
    positive_mask: Tensor
    positive_text: Tensor
    negative_ids: Tensor | None = None
    negative_mask: Tensor | None = None


@dataclass(frozen=True)
class RowBatch(Batch):
    """Encoded table rows.

    Attributes:
        numeric: Shape: (B, F), float32 standardised numeric columns.
        codes: Shape: (B, K), int64 category codes, one column per categorical column.
    """

    numeric: Tensor
    codes: Tensor


@dataclass(frozen=True)
class InteractionBatch(Batch):
    """A batch of (user, item) interactions (the two-tower recommender).

    Attributes:
        users: Shape: (B,), int64 user codes.
        item_ids: Shape: (B,), int64 item codes.
        features: Shape: (B, F), float32 features of each row's item, or None.
        log_q: Shape: (B,), float32 log-probability of each row's item being in a batch
            (log of its share of the training interactions).
    """

    users: Tensor
    item_ids: Tensor
    features: Tensor | None
    log_q: Tensor
