"""Triplet loss: reference, closed forms, gradients, mined module."""

from __future__ import annotations

import pytest
import torch

from contrastkit.losses import MinedTripletLoss, TripletLoss, batch_hard, triplet
from reference import contrastive as ref


def rand(*shape: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64, requires_grad=True)


@pytest.mark.parametrize("margin", [0.0, 0.2, 1.0])
def test_matches_numpy_reference(margin: float) -> None:
    a, p, n = rand(8, 4, seed=0), rand(8, 4, seed=1), rand(8, 4, seed=2)
    expected = ref.triplet(*(t.detach().numpy() for t in (a, p, n)), margin)
    assert triplet(a, p, n, margin).item() == pytest.approx(expected, rel=1e-10)


def test_closed_forms() -> None:
    a = torch.tensor([[1.0, 0.0]])
    far = torch.tensor([[-1.0, 0.0]])
    assert triplet(a, a, far, 0.5).item() == 0.0  # d_ap = 0, d_an = 2
    assert triplet(a, far, a, 0.5).item() == pytest.approx(2.5, rel=1e-6)
    assert triplet(a, a, a, 0.3).item() == pytest.approx(0.3, rel=1e-6)


def test_gradcheck_float64() -> None:
    a, p, n = rand(5, 3, seed=0), rand(5, 3, seed=1), rand(5, 3, seed=2)
    assert torch.autograd.gradcheck(lambda x, y, z: triplet(x, y, z, 1.0), (a, p, n))


@pytest.mark.parametrize("miner", ["batch_hard", "semi_hard", "distance_weighted"])
def test_mined_module_applies_triplet_to_mined_rows(miner: str) -> None:
    x = rand(12, 4, seed=0)
    labels = torch.tensor([0, 1, 2] * 4)
    g = torch.Generator().manual_seed(0)
    loss = MinedTripletLoss(miner=miner, margin=0.5, generator=g)(x, labels)  # type: ignore[arg-type]
    assert torch.isfinite(loss) and loss.item() >= 0
    loss.backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


def test_mined_batch_hard_value() -> None:
    x = rand(10, 3, seed=0)
    labels = torch.tensor([0, 0, 1, 1, 2, 2, 0, 1, 2, 0])
    t = batch_hard(x, labels)
    want = triplet(x[t.anchor], x[t.positive], x[t.negative], 0.2)
    assert MinedTripletLoss()(x, labels).item() == pytest.approx(want.item(), rel=1e-12)


def test_errors_and_module() -> None:
    a = torch.randn(4, 3)
    with pytest.raises(ValueError, match="anchor and negative must have the same shape"):
        triplet(a, a, torch.randn(3, 3))
    with pytest.raises(ValueError, match="margin must be >= 0"):
        TripletLoss(margin=-0.1)
    with pytest.raises(ValueError, match="miner must be"):
        MinedTripletLoss(miner="hardest")  # type: ignore[arg-type]
    assert TripletLoss(margin=0.4)(a, a.flip(0), -a).item() == pytest.approx(
        triplet(a, a.flip(0), -a, 0.4).item()
    )


def test_no_triplets_gives_zero() -> None:
    e = torch.empty(0, 3, requires_grad=True)
    assert triplet(e, e, e).item() == 0.0
