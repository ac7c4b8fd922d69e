"""Negative cosine (SimSiam) and BYOL: reference, closed forms, gradients."""

from __future__ import annotations

import pytest
import torch

from contrastkit.losses import BYOLLoss, NegativeCosineLoss, byol, negative_cosine
from reference import non_contrastive as ref


def rand(*shape: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64, requires_grad=True)


def test_byol_matches_numpy_reference() -> None:
    p, z = rand(7, 5, seed=0), rand(7, 5, seed=1)
    expected = ref.byol(p.detach().numpy(), z.detach().numpy())
    assert byol(p, z).item() == pytest.approx(expected, rel=1e-10)
    assert negative_cosine(p, z).item() == pytest.approx((expected - 2) / 2, rel=1e-10)


def test_closed_forms() -> None:
    p = rand(4, 3, seed=0)
    assert negative_cosine(p, 2 * p).item() == pytest.approx(-1.0, rel=1e-12)
    assert negative_cosine(p, -p).item() == pytest.approx(1.0, rel=1e-12)
    assert byol(p, p).item() == pytest.approx(0.0, abs=1e-12)
    assert byol(p, -p).item() == pytest.approx(4.0, rel=1e-12)


def test_gradcheck_and_target_gets_gradient_unless_detached() -> None:
    p, z = rand(4, 3, seed=0), rand(4, 3, seed=1)
    assert torch.autograd.gradcheck(byol, (p, z))
    negative_cosine(p, z.detach()).backward()
    assert z.grad is None and p.grad is not None


def test_errors_and_modules() -> None:
    with pytest.raises(ValueError, match="prediction and target must have the same shape"):
        byol(torch.randn(4, 3), torch.randn(4, 2))
    p, z = rand(4, 3, seed=0), rand(4, 3, seed=1)
    assert BYOLLoss()(p, z).item() == byol(p, z).item()
    assert NegativeCosineLoss()(p, z).item() == negative_cosine(p, z).item()
