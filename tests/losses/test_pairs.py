"""Margin contrastive (Hadsell) and N-pair (Sohn): references, closed forms, gradients."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from contrastkit.losses import (
    MarginContrastiveLoss,
    NPairLoss,
    info_nce,
    margin_contrastive,
    n_pair,
)
from reference import contrastive as ref


def rand(*shape: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64, requires_grad=True)


@pytest.mark.parametrize("margin", [0.5, 1.0, 1.8])
def test_margin_contrastive_matches_reference(margin: float) -> None:
    a, b = rand(10, 4, seed=0), rand(10, 4, seed=1)
    same = torch.tensor([True, False] * 5)
    expected = ref.margin_contrastive(a.detach().numpy(), b.detach().numpy(), same.numpy(), margin)
    assert margin_contrastive(a, b, same, margin).item() == pytest.approx(expected, rel=1e-10)


def test_margin_contrastive_closed_forms() -> None:
    x = torch.tensor([[1.0, 0.0]], dtype=torch.float64)
    y = torch.tensor([[0.0, 1.0]], dtype=torch.float64)  # distance sqrt(2)
    assert margin_contrastive(x, y, torch.tensor([True])).item() == pytest.approx(1.0)
    assert margin_contrastive(x, y, torch.tensor([False]), 2.0).item() == pytest.approx(
        (2 - math.sqrt(2)) ** 2 / 2
    )
    assert margin_contrastive(x, y, torch.tensor([False]), 1.0).item() == 0.0
    assert margin_contrastive(x, x, torch.tensor([True])).item() == 0.0


def test_margin_contrastive_gradcheck_and_errors() -> None:
    a, b = rand(6, 3, seed=0), rand(6, 3, seed=1)
    same = torch.tensor([True, False, True, False, False, True])
    assert torch.autograd.gradcheck(lambda x, y: margin_contrastive(x, y, same, 1.5), (a, b))
    with pytest.raises(ValueError, match="same must be a bool tensor"):
        margin_contrastive(a, b, same.long())
    with pytest.raises(ValueError, match=r"same must have shape \(6,\)"):
        margin_contrastive(a, b, same[:3])
    with pytest.raises(ValueError, match="margin must be >= 0"):
        MarginContrastiveLoss(margin=-1.0)
    assert MarginContrastiveLoss(margin=0.7)(a, b, same).item() == pytest.approx(
        margin_contrastive(a, b, same, 0.7).item(), rel=1e-12
    )


@pytest.mark.parametrize("l2_reg", [0.0, 0.002])
def test_n_pair_matches_reference_unnormalised(l2_reg: float) -> None:
    a, b = rand(6, 4, seed=0), rand(6, 4, seed=1)
    expected = ref.n_pair(a.detach().numpy(), b.detach().numpy(), l2_reg)
    got = n_pair(a, b, normalize=False, l2_reg=l2_reg)
    assert got.item() == pytest.approx(expected, rel=1e-10)


def test_n_pair_is_cross_entropy_of_dot_products() -> None:
    a, b = rand(6, 4, seed=0), rand(6, 4, seed=1)
    dense = F.cross_entropy(F.normalize(a, dim=1) @ F.normalize(b, dim=1).T, torch.arange(6))
    assert n_pair(a, b, chunk_size=2).item() == pytest.approx(dense.item(), rel=1e-12)
    assert n_pair(a, b).item() == pytest.approx(info_nce(a, b, 1.0).item(), rel=1e-12)


def test_n_pair_gradcheck_and_module() -> None:
    a, b = rand(5, 3, seed=0), rand(5, 3, seed=1)
    assert torch.autograd.gradcheck(
        lambda x, y: n_pair(x, y, normalize=False, l2_reg=0.01, chunk_size=2), (a, b)
    )
    with pytest.raises(ValueError, match="l2_reg must be >= 0"):
        NPairLoss(l2_reg=-0.1)
    assert NPairLoss(l2_reg=0.1)(a, b).item() == n_pair(a, b, l2_reg=0.1).item()
