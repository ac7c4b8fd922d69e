"""In-memory training data as a map-style `Dataset`: the loop reads it like any other.

`TensorItems` wraps data held in memory as a whole: a tensor indexed along dim 0
(images, table rows, token ids), a tuple of such tensors indexed together (image + caption
ids), or a typed `contrastkit.batches.Batch`. The DataLoader asks for a whole batch of
indices at once (`__getitems__`), which is one advanced-indexing call, with no Python work
per item; `collate_items` then passes that batch through unchanged (and stacks a list of
single items when a caller indexes item by item).

Example:
    >>> items = TensorItems(images)                 # uint8 (N, C, H, W)
    >>> items.__getitems__([4, 0, 7]).shape        # (3, C, H, W) == images[[4, 0, 7]]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor
from torch.utils.data import Dataset

from contrastkit.batches import Batch

InMemory = Tensor | tuple[Tensor, ...] | Batch
"""Data held in memory whole: a tensor, a tuple of tensors with a common dim 0, or a typed
batch."""


def _length(data: InMemory) -> int:
    if isinstance(data, Tensor):
        return int(data.shape[0])
    if isinstance(data, Batch):
        return len(data)
    return int(data[0].shape[0])


class TensorItems(Dataset[Any]):
    """A map-style dataset over tensors held in memory (index i = row i of every tensor).

    Args:
        data: A tensor (Shape: (N, ...)), a tuple of tensors sharing dim 0 (each
            Shape: (N, ...)), or a typed `Batch` of N rows.

    Raises:
        ValueError: An empty tuple, or tensors that differ in dim 0.
    """

    def __init__(self, data: InMemory) -> None:
        if isinstance(data, tuple):
            if not data:
                raise ValueError("TensorItems: got an empty tuple of tensors")
            sizes = [int(part.shape[0]) for part in data]
            if len(set(sizes)) > 1:
                raise ValueError(f"TensorItems: tensors differ in dim 0: {sizes}")
        elif not isinstance(data, Tensor | Batch):
            raise ValueError(
                f"TensorItems: expected a Tensor, a tuple of tensors or a Batch, "
                f"got {type(data).__name__}"
            )
        self.data = data
        self._n = _length(data)

    def __len__(self) -> int:
        return self._n

    def take(self, index: Tensor) -> InMemory:
        """Rows `index` of the data, batched. index: Shape: (K,), int64."""
        if isinstance(self.data, Tensor):
            return self.data[index]
        if isinstance(self.data, Batch):
            return self.data.take(index)
        return tuple(part[index] for part in self.data)

    def __getitem__(self, i: int) -> Any:
        """One item: a row (Shape: (...)), a tuple of rows, or the typed batch's fields."""
        if isinstance(self.data, Tensor):
            return self.data[i]
        if isinstance(self.data, Batch):
            return tuple(None if f is None else f[i] for f in self.data.items())
        return tuple(part[i] for part in self.data)

    def __getitems__(self, indices: Sequence[int]) -> InMemory:
        """The batch of rows `indices`, already collated (the DataLoader's fast path)."""
        return self.take(torch.as_tensor(indices, dtype=torch.int64))

    def collate(self, items: Any) -> InMemory:
        """The batch of a list of `__getitem__` items, or a `__getitems__` batch unchanged."""
        return collate_items(items, like=self.data)


def collate_items(items: Any, *, like: InMemory | None = None) -> Any:
    """Stack per-item results into a batch; pass an already batched object through.

    A `list` is a list of single items (each a tensor or a tuple of tensors / None) and is
    stacked along a new dim 0: into the typed batch class of `like` when it is a `Batch`,
    else into a tensor or a tuple of tensors. Anything else (what `__getitems__` returned)
    is returned as it is.
    """
    if not isinstance(items, list):
        return items
    if isinstance(like, Batch):
        return type(like).collate(items)
    if isinstance(items[0], Tensor):
        return torch.stack(items)
    return tuple(torch.stack(list(column)) for column in zip(*items, strict=True))
