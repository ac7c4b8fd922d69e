"""DCL and DCLW: reference, relation to NT-Xent, gradients, blocked == dense."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from contrastkit.losses import DCLLoss, dcl, dcl_weighted, nt_xent
from reference import contrastive as ref


def pair(n: int = 7, d: int = 5, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(n, d, generator=g, dtype=torch.float64, requires_grad=True)
    b = torch.randn(n, d, generator=g, dtype=torch.float64, requires_grad=True)
    return a, b


def dense_dcl(a: torch.Tensor, b: torch.Tensor, t: float, sigma: float | None) -> torch.Tensor:
    n = a.shape[0]
    z = F.normalize(torch.cat([a, b]), dim=1)
    logits = z @ z.T / t
    partner = torch.cat([torch.arange(n, 2 * n), torch.arange(n)])
    pos = logits[torch.arange(2 * n), partner]
    out = torch.eye(2 * n, dtype=torch.bool)
    out[torch.arange(2 * n), partner] = True
    neg = torch.logsumexp(logits.masked_fill(out, float("-inf")), dim=1)
    w = torch.ones(2 * n, dtype=a.dtype)
    if sigma is not None:
        cos = (z[:n] * z[n:]).sum(1).detach()
        w = (2 - n * torch.softmax(cos / sigma, 0)).repeat(2)
    return (neg - w * pos).mean()


@pytest.mark.parametrize("sigma", [None, 0.5])
def test_matches_numpy_reference(sigma: float | None) -> None:
    a, b = pair()
    expected = ref.dcl(a.detach().numpy(), b.detach().numpy(), 0.1, sigma)
    assert dcl(a, b, 0.1, sigma=sigma).item() == pytest.approx(expected, rel=1e-10)


def test_dcl_is_below_nt_xent_by_the_positive_mass() -> None:
    # Removing the positive from the denominator can only lower each term.
    a, b = pair()
    assert dcl(a, b, 0.5).item() < nt_xent(a, b, 0.5).item()


def test_dcl_weighted_alias_and_uniform_weights() -> None:
    a, b = pair()
    assert dcl_weighted(a, b, sigma=0.5).item() == dcl(a, b, sigma=0.5).item()
    # Equal positive cosines give w = 1: DCLW == DCL.
    z = torch.eye(4, dtype=torch.float64)
    assert dcl(z, z, 0.2, sigma=0.5).item() == pytest.approx(dcl(z, z, 0.2).item(), rel=1e-12)


@pytest.mark.parametrize(("chunk_size", "sigma"), [(1, None), (4, 0.5), (None, 0.5)])
def test_blocked_equals_dense_value_and_gradient(
    chunk_size: int | None, sigma: float | None
) -> None:
    a, b = pair(8, 4)
    got = dcl(a, b, 0.2, sigma=sigma, chunk_size=chunk_size)
    want = dense_dcl(a, b, 0.2, sigma)
    assert got.item() == pytest.approx(want.item(), rel=1e-12)
    for x, y in zip(
        torch.autograd.grad(got, (a, b)), torch.autograd.grad(want, (a, b)), strict=True
    ):
        torch.testing.assert_close(x, y, rtol=1e-10, atol=1e-12)


def test_gradcheck_float64_with_ids() -> None:
    a, b = pair(5, 3)
    ids = torch.tensor([0, 1, 0, 2, 3])
    assert torch.autograd.gradcheck(lambda x, y: dcl(x, y, 0.3, ids=ids, chunk_size=3), (a, b))


def test_errors_and_module() -> None:
    a, b = pair()
    with pytest.raises(ValueError, match="sigma must be > 0"):
        dcl(a, b, sigma=0.0)
    with pytest.raises(ValueError, match="temperature must be > 0"):
        DCLLoss(temperature=0.0)
    assert DCLLoss(sigma=0.5)(a, b).item() == dcl(a, b, sigma=0.5).item()
