"""Barlow Twins: reference, closed form on perfectly correlated views, gradients."""

from __future__ import annotations

import pytest
import torch

from contrastkit.losses import BarlowTwinsLoss, barlow_twins
from reference import non_contrastive as ref


def rand(*shape: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64, requires_grad=True)


@pytest.mark.parametrize("lambd", [5e-3, 0.1])
def test_matches_numpy_reference(lambd: float) -> None:
    a, b = rand(8, 5, seed=0), rand(8, 5, seed=1)
    expected = ref.barlow_twins(a.detach().numpy(), b.detach().numpy(), lambd)
    assert barlow_twins(a, b, lambda_offdiag=lambd).item() == pytest.approx(expected, rel=1e-10)


def test_identical_decorrelated_views_give_zero() -> None:
    # Columns of a Hadamard-like matrix: zero mean, unit variance, uncorrelated.
    z = torch.tensor([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], dtype=torch.float64)
    assert barlow_twins(z, z, eps=1e-12).item() == pytest.approx(0.0, abs=1e-9)


def test_invariant_to_sample_order_and_symmetric() -> None:
    a, b = rand(8, 5, seed=0), rand(8, 5, seed=1)
    perm = torch.randperm(8, generator=torch.Generator().manual_seed(0))
    base = barlow_twins(a, b).item()
    assert barlow_twins(a[perm], b[perm]).item() == pytest.approx(base, rel=1e-12)
    assert barlow_twins(b, a).item() == pytest.approx(base, rel=1e-12)


def test_gradcheck_float64() -> None:
    a, b = rand(6, 3, seed=0), rand(6, 3, seed=1)
    assert torch.autograd.gradcheck(lambda x, y: barlow_twins(x, y, lambda_offdiag=0.1), (a, b))


def test_errors_and_module() -> None:
    with pytest.raises(ValueError, match="N >= 2"):
        barlow_twins(torch.randn(1, 4), torch.randn(1, 4))
    with pytest.raises(ValueError, match="lambda_offdiag must be >= 0"):
        BarlowTwinsLoss(lambda_offdiag=-1.0)
    a, b = rand(6, 3, seed=0), rand(6, 3, seed=1)
    assert BarlowTwinsLoss()(a, b).item() == pytest.approx(barlow_twins(a, b).item(), rel=1e-12)
