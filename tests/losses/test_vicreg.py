"""VICReg: reference, terms in isolation, gradients."""

from __future__ import annotations

import pytest
import torch

from contrastkit.losses import VICRegLoss, vicreg
from reference import non_contrastive as ref


def rand(*shape: int, seed: int, scale: float = 1.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    x = scale * torch.randn(*shape, generator=g, dtype=torch.float64)
    return x.requires_grad_()


@pytest.mark.parametrize("scale", [0.3, 2.0])  # variance hinge active / inactive
def test_matches_numpy_reference(scale: float) -> None:
    a, b = rand(9, 4, seed=0, scale=scale), rand(9, 4, seed=1, scale=scale)
    expected = ref.vicreg(a.detach().numpy(), b.detach().numpy(), 25.0, 25.0, 1.0)
    assert vicreg(a, b).item() == pytest.approx(expected, rel=1e-10)


def test_terms_in_isolation() -> None:
    a, b = rand(9, 4, seed=0), rand(9, 4, seed=1)
    inv = vicreg(a, b, variance_weight=0, covariance_weight=0)
    assert inv.item() == pytest.approx(25 * torch.mean((a - b) ** 2).item(), rel=1e-12)
    # Constant embeddings: std = sqrt(eps), variance term = 1 - sqrt(eps) per branch.
    c = torch.zeros(5, 3, dtype=torch.float64)
    var = vicreg(c, c, invariance_weight=0, covariance_weight=0, variance_weight=1.0)
    assert var.item() == pytest.approx(1 - 1e-2, rel=1e-12)


def test_gradcheck_float64() -> None:
    a, b = rand(6, 3, seed=0, scale=0.5), rand(6, 3, seed=1, scale=0.5)
    assert torch.autograd.gradcheck(vicreg, (a, b))


def test_errors_and_module() -> None:
    with pytest.raises(ValueError, match="N >= 2"):
        vicreg(torch.randn(1, 4), torch.randn(1, 4))
    with pytest.raises(ValueError, match="variance_weight must be >= 0"):
        VICRegLoss(variance_weight=-1.0)
    a, b = rand(6, 3, seed=0), rand(6, 3, seed=1)
    assert VICRegLoss(gamma=2.0)(a, b).item() == pytest.approx(
        vicreg(a, b, gamma=2.0).item(), rel=1e-12
    )
