"""Miners: batch-hard and semi-hard against loop references, blocked == one block,
distance-weighted sampling frequencies against the paper's weights."""

from __future__ import annotations

import pytest
import torch

from contrastkit.losses import batch_hard, distance_weighted, semi_hard
from reference import miners as ref
from reference.non_contrastive import distance_weights


def data(n: int = 15, d: int = 4, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g, dtype=torch.float64)
    labels = torch.randint(0, 4, (n,), generator=g)
    return x, labels


def as_set(t) -> set[tuple[int, int, int]]:  # type: ignore[no-untyped-def]
    return set(zip(t.anchor.tolist(), t.positive.tolist(), t.negative.tolist(), strict=True))


@pytest.mark.parametrize("chunk_size", [1, 4, None])
def test_batch_hard_matches_reference(chunk_size: int | None) -> None:
    x, labels = data()
    got = as_set(batch_hard(x, labels, chunk_size=chunk_size))
    assert got == ref.batch_hard(x.numpy(), labels.numpy())


@pytest.mark.parametrize(("margin", "chunk_size"), [(0.2, 3), (0.5, None), (2.0, 1)])
def test_semi_hard_matches_reference(margin: float, chunk_size: int | None) -> None:
    x, labels = data()
    got = as_set(semi_hard(x, labels, margin=margin, chunk_size=chunk_size))
    assert got == ref.semi_hard(x.numpy(), labels.numpy(), margin)
    assert got  # the data has semi-hard triplets


def test_miners_skip_anchors_without_positive_or_negative() -> None:
    x = torch.randn(3, 2)
    assert batch_hard(x, torch.tensor([0, 1, 2])).anchor.numel() == 0
    assert batch_hard(x, torch.tensor([0, 0, 0])).anchor.numel() == 0
    assert distance_weighted(x, torch.tensor([0, 0, 0])).anchor.numel() == 0


def test_distance_weighted_frequencies_follow_inverse_density() -> None:
    # Anchor 0 with 100 copies of one positive and four negatives: each (0, p) pair
    # draws one negative independently from the same distribution; 30 batches.
    g = torch.Generator().manual_seed(0)
    base = torch.randn(6, 5, generator=g, dtype=torch.float64)
    copies, batches = 100, 30
    x = torch.cat([base[:1], base[1:2].expand(copies, 5), base[2:]])
    labels = torch.tensor([0] * (copies + 1) + [1, 2, 3, 4])
    xn = torch.nn.functional.normalize(base, dim=1).numpy()
    want = distance_weights(xn, 0, [2, 3, 4, 5], cutoff=0.5, nz=1.4)
    gen = torch.Generator().manual_seed(1)
    samples = [distance_weighted(x, labels, generator=gen) for _ in range(batches)]
    # negatives of anchor 0, mapped back to row indices of base
    drawn = torch.cat([t.negative[t.anchor == 0] - copies + 1 for t in samples])
    assert drawn.numel() == copies * batches
    for j in range(2, 6):
        freq = (drawn == j).double().mean().item()
        assert freq == pytest.approx(want.get(j, 0.0), abs=0.03)


def test_distance_weighted_triplets_are_valid() -> None:
    x, labels = data(20)
    t = distance_weighted(x, labels, generator=torch.Generator().manual_seed(0))
    assert (labels[t.anchor] == labels[t.positive]).all()
    assert (labels[t.anchor] != labels[t.negative]).all()
    assert (t.anchor != t.positive).all()


def test_errors() -> None:
    x, labels = data()
    with pytest.raises(ValueError, match="labels must be an integer tensor"):
        batch_hard(x, labels.double())
    with pytest.raises(ValueError, match=r"labels must have shape \(15,\)"):
        semi_hard(x, labels[:3])
    with pytest.raises(ValueError, match="cutoff must be > 0"):
        distance_weighted(x, labels, cutoff=0.0)
