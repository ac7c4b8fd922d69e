"""The tabular MLP encoder: shapes, categorical embeddings, shape errors."""

from __future__ import annotations

import pytest
import torch

from contrastkit.encoders.mlp import TabularMLP


@pytest.mark.parametrize(("dn", "cards"), [(5, [3, 7]), (4, []), (0, [2, 2, 9])])
def test_output_shape(dn: int, cards: list[int]) -> None:
    enc = TabularMLP(num_numeric=dn, cardinalities=cards, width=16, depth=2, feature_dim=6)
    num = torch.randn(9, dn)
    codes = torch.stack([torch.randint(0, k, (9,)) for k in cards], 1) if cards else None
    codes = codes if codes is not None else torch.zeros(9, 0, dtype=torch.int64)
    assert enc(num, codes).shape == (9, 6)
    first = enc.net[0]
    assert isinstance(first, torch.nn.Linear) and first.in_features == dn + 8 * len(cards)


def test_categories_reach_the_output_through_their_embeddings() -> None:
    torch.manual_seed(0)
    enc = TabularMLP(num_numeric=2, cardinalities=[4], width=8, depth=1, feature_dim=3).eval()
    num = torch.zeros(2, 2)
    out = enc(num, torch.tensor([[1], [2]]))
    assert not torch.allclose(out[0], out[1])  # only the category differs
    enc.embeddings[0].weight.data[2] = enc.embeddings[0].weight.data[1]
    out = enc(num, torch.tensor([[1], [2]]))
    torch.testing.assert_close(out[0], out[1])
    enc.train()
    enc(torch.randn(4, 2), torch.tensor([[0], [1], [1], [3]])).sum().backward()
    grad = enc.embeddings[0].weight.grad
    assert grad is not None and torch.all(grad[2] == 0) and grad[1].abs().sum() > 0


def test_shape_and_argument_errors() -> None:
    enc = TabularMLP(num_numeric=3, cardinalities=[4], width=8)
    with pytest.raises(ValueError, match=r"expected numeric \(B, 3\) and codes \(B, 1\)"):
        enc(torch.randn(2, 4), torch.zeros(2, 1, dtype=torch.int64))
    with pytest.raises(ValueError, match="at least one column"):
        TabularMLP(num_numeric=0, cardinalities=[])
    with pytest.raises(ValueError, match="must be >= 1"):
        TabularMLP(num_numeric=2, cardinalities=[0])
