"""`TensorItems`: the batched fast path equals item-by-item reads and collate."""

from __future__ import annotations

import pytest
import torch

from contrastkit.batches import TextPairBatch
from contrastkit.data.items import TensorItems, collate_items

INDEX = [5, 0, 3, 3]


def test_tensor_fast_path_equals_per_item_collate() -> None:
    x = torch.randint(0, 256, (8, 1, 4, 4), dtype=torch.uint8)
    items = TensorItems(x)
    batched = items.__getitems__(INDEX)
    assert len(items) == 8
    assert torch.equal(batched, x[INDEX])
    assert torch.equal(items.collate([items[i] for i in INDEX]), batched)
    assert items.collate(batched) is batched  # the fast path's batch passes through


def test_tuple_fast_path_equals_per_item_collate() -> None:
    data = (torch.randn(8, 3), torch.arange(8))
    items = TensorItems(data)
    batched = items.__getitems__(INDEX)
    single = items.collate([items[i] for i in INDEX])
    assert isinstance(batched, tuple) and isinstance(single, tuple)
    for a, b, full in zip(batched, single, data, strict=True):
        assert torch.equal(a, full[INDEX]) and torch.equal(a, b)


def test_typed_batch_with_an_optional_field() -> None:
    ids = torch.arange(24).reshape(8, 3)
    batch = TextPairBatch(ids, ids > 2, torch.arange(8), ids + 1, ids > 3, torch.arange(8) + 8)
    items = TensorItems(batch)
    batched = items.__getitems__(INDEX)
    assert isinstance(batched, TextPairBatch) and batched.negative_ids is None
    assert torch.equal(batched.positive_ids, (ids + 1)[INDEX])
    single = items.collate([items[i] for i in INDEX])
    assert isinstance(single, TextPairBatch)
    for a, b in zip(batched.items(), single.items(), strict=True):
        assert (a is None and b is None) or torch.equal(a, b)  # type: ignore[arg-type]


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="differ in dim 0"):
        TensorItems((torch.zeros(3), torch.zeros(4)))
    with pytest.raises(ValueError, match="expected a Tensor"):
        TensorItems([torch.zeros(3)])  # type: ignore[arg-type]
    assert collate_items("batched") == "batched"
