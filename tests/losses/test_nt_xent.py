"""NT-Xent: reference, closed form, properties, gradients, blocked == dense, options."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from contrastkit.losses import NTXentLoss, nt_xent
from reference import contrastive as ref


def dense_nt_xent(z_a: torch.Tensor, z_b: torch.Tensor, temperature: float) -> torch.Tensor:
    """The dense form: all 2N x 2N logits through F.cross_entropy."""
    n = z_a.shape[0]
    z = F.normalize(torch.cat([z_a, z_b]), dim=1)
    logits = z @ z.T / temperature
    logits.fill_diagonal_(float("-inf"))
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(n)])
    return F.cross_entropy(logits, target)


def pair(n: int = 7, d: int = 5, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(n, d, generator=g, dtype=torch.float64, requires_grad=True)
    b = torch.randn(n, d, generator=g, dtype=torch.float64, requires_grad=True)
    return a, b


@pytest.mark.parametrize("temperature", [0.1, 0.5, 2.0])
def test_matches_numpy_reference(temperature: float) -> None:
    a, b = pair()
    expected = ref.nt_xent(a.detach().numpy(), b.detach().numpy(), temperature)
    assert nt_xent(a, b, temperature).item() == pytest.approx(expected, rel=1e-10)


def test_identical_embeddings_give_log_2n_minus_1() -> None:
    z = torch.ones(6, 3)
    assert nt_xent(z, z, 0.5).item() == pytest.approx(math.log(11), rel=1e-6)


def test_symmetric_in_views_and_invariant_to_sample_order() -> None:
    a, b = pair()
    perm = torch.randperm(a.shape[0], generator=torch.Generator().manual_seed(1))
    base = nt_xent(a, b)
    assert nt_xent(b, a).item() == pytest.approx(base.item(), rel=1e-12)
    assert nt_xent(a[perm], b[perm]).item() == pytest.approx(base.item(), rel=1e-12)


def test_scale_invariant_when_normalized_and_not_otherwise() -> None:
    a, b = pair()
    assert nt_xent(3 * a, b).item() == pytest.approx(nt_xent(a, b).item(), rel=1e-12)
    assert nt_xent(3 * a, b, normalize=False).item() != pytest.approx(
        nt_xent(a, b, normalize=False).item(), rel=1e-3
    )


def test_gradcheck_float64() -> None:
    a, b = pair(5, 4)
    assert torch.autograd.gradcheck(lambda x, y: nt_xent(x, y, 0.3, chunk_size=2), (a, b))


@pytest.mark.parametrize("chunk_size", [1, 3, 5, None, 1000])
def test_blocked_equals_dense_value_and_gradient(chunk_size: int | None) -> None:
    a, b = pair(9, 6)
    got = nt_xent(a, b, 0.2, chunk_size=chunk_size)
    want = dense_nt_xent(a, b, 0.2)
    g_got = torch.autograd.grad(got, (a, b))
    g_want = torch.autograd.grad(want, (a, b))
    assert got.item() == pytest.approx(want.item(), rel=1e-12)
    for x, y in zip(g_got, g_want, strict=True):
        torch.testing.assert_close(x, y, rtol=1e-10, atol=1e-12)


def test_duplicate_ids_are_extra_positives() -> None:
    a, b = pair(6, 4)
    ids = torch.tensor([0, 1, 0, 2, 3, 1])
    expected = ref.nt_xent(a.detach().numpy(), b.detach().numpy(), 0.5, ids=ids.numpy())
    assert nt_xent(a, b, ids=ids, chunk_size=4).item() == pytest.approx(expected, rel=1e-10)
    unique = torch.arange(6)
    assert nt_xent(a, b, ids=unique).item() == pytest.approx(nt_xent(a, b).item(), rel=1e-12)
    assert torch.autograd.gradcheck(lambda x, y: nt_xent(x, y, ids=ids, chunk_size=5), (a, b))


def test_mask_drops_false_negatives() -> None:
    a, b = pair(6, 4)
    mask = torch.zeros(6, 6, dtype=torch.bool)
    mask[0, 3] = mask[3, 0] = mask[2, 5] = True
    mask[1, 1] = True  # a positive: ignored
    expected = ref.nt_xent(a.detach().numpy(), b.detach().numpy(), 0.5, mask=mask.numpy())
    assert nt_xent(a, b, mask=mask, chunk_size=4).item() == pytest.approx(expected, rel=1e-10)
    assert torch.autograd.gradcheck(lambda x, y: nt_xent(x, y, mask=mask, chunk_size=5), (a, b))


def test_gather_without_process_group_is_a_no_op() -> None:
    a, b = pair()
    assert nt_xent(a, b, gather=True).item() == pytest.approx(nt_xent(a, b).item(), rel=1e-12)


def test_module_stores_hyperparameters_and_calls_function() -> None:
    a, b = pair()
    module = NTXentLoss(temperature=0.2, chunk_size=3)
    assert module(a, b).item() == pytest.approx(nt_xent(a, b, 0.2).item(), rel=1e-12)
    with pytest.raises(ValueError, match="temperature"):
        NTXentLoss(temperature=0.0)


@pytest.mark.parametrize("temperature", [0.0, -0.5])
def test_bad_temperature_raises(temperature: float) -> None:
    a, b = pair()
    with pytest.raises(ValueError, match="temperature must be > 0"):
        nt_xent(a, b, temperature)


def test_bad_shapes_raise_naming_them() -> None:
    with pytest.raises(ValueError, match=r"\(4, 3\) and \(5, 3\)"):
        nt_xent(torch.randn(4, 3), torch.randn(5, 3))
    with pytest.raises(ValueError, match="z_a must have shape"):
        nt_xent(torch.randn(4), torch.randn(4))
    with pytest.raises(ValueError, match="mask must be a bool tensor of shape"):
        nt_xent(torch.randn(4, 3), torch.randn(4, 3), mask=torch.zeros(4, 4))
    with pytest.raises(ValueError, match="ids must have shape"):
        nt_xent(torch.randn(4, 3), torch.randn(4, 3), ids=torch.arange(5))
