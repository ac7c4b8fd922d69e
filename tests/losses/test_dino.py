"""DINO: reference over multi-crop pairs, centering, stop-gradient, errors."""

from __future__ import annotations

import math

import pytest
import torch

from contrastkit.losses import DINOLoss, dino
from reference import non_contrastive as ref


def rand(*shape: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64, requires_grad=True)


@pytest.mark.parametrize(("vs", "vt"), [(2, 2), (4, 2), (3, 1)])
def test_matches_numpy_reference(vs: int, vt: int) -> None:
    s, t, c = rand(vs, 5, 7, seed=0), rand(vt, 5, 7, seed=1), rand(7, seed=2).detach()
    expected = ref.dino(s.detach().numpy(), t.detach().numpy(), c.numpy(), 0.1, 0.04)
    assert dino(s, t, c).item() == pytest.approx(expected, rel=1e-10)


def test_uniform_teacher_gives_cross_entropy_to_uniform() -> None:
    s = torch.zeros(2, 3, 8, dtype=torch.float64)
    t = torch.zeros(2, 3, 8, dtype=torch.float64)
    assert dino(s, t, torch.zeros(8, dtype=torch.float64)).item() == pytest.approx(math.log(8))


def test_center_shift_is_subtracted() -> None:
    s, t = rand(3, 4, 6, seed=0), rand(2, 4, 6, seed=1)
    c = torch.linspace(-1, 1, 6, dtype=torch.float64)
    assert dino(s, t + c, c).item() == pytest.approx(
        dino(s, t, torch.zeros(6, dtype=torch.float64)).item(), rel=1e-12
    )


def test_teacher_gets_no_gradient_and_student_gradcheck() -> None:
    s, t = rand(3, 2, 4, seed=0), rand(2, 2, 4, seed=1)
    dino(s, t, torch.zeros(4, dtype=torch.float64)).backward()
    assert t.grad is None
    c = torch.zeros(4, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda x: dino(x, t, c), (s.detach().requires_grad_(),))


def test_errors_and_module() -> None:
    with pytest.raises(ValueError, match="Vt <= Vs"):
        dino(torch.randn(2, 3, 4), torch.randn(3, 3, 4), torch.zeros(4))
    with pytest.raises(ValueError, match="center"):
        dino(torch.randn(2, 3, 4), torch.randn(2, 3, 4), torch.zeros(5))
    with pytest.raises(ValueError, match="teacher_temperature must be > 0"):
        DINOLoss(teacher_temperature=0.0)
    s, t, c = rand(3, 2, 4, seed=0), rand(2, 2, 4, seed=1), torch.zeros(4, dtype=torch.float64)
    assert DINOLoss()(s, t, c).item() == dino(s, t, c).item()
