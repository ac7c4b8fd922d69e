"""InfoNCE: reference with and without a queue, closed form, gradients, blocked == dense."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from contrastkit.losses import InfoNCELoss, info_nce
from reference import contrastive as ref


def rand(*shape: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64, requires_grad=True)


def dense_info_nce(q: torch.Tensor, k: torch.Tensor, t: float, neg: torch.Tensor) -> torch.Tensor:
    q, k, neg = F.normalize(q, dim=1), F.normalize(k, dim=1), F.normalize(neg, dim=1)
    logits = q @ torch.cat([k, neg]).T / t
    return F.cross_entropy(logits, torch.arange(q.shape[0]))


@pytest.mark.parametrize("with_queue", [False, True])
def test_matches_numpy_reference(with_queue: bool) -> None:
    q, k, neg = rand(6, 4, seed=0), rand(6, 4, seed=1), rand(9, 4, seed=2)
    negatives = neg if with_queue else None
    expected = ref.info_nce(
        q.detach().numpy(),
        k.detach().numpy(),
        0.07,
        None if negatives is None else neg.detach().numpy(),
    )
    assert info_nce(q, k, 0.07, negatives).item() == pytest.approx(expected, rel=1e-10)


def test_identical_rows_give_log_of_candidate_count() -> None:
    z = torch.ones(5, 3)
    assert info_nce(z, z, 0.1, torch.ones(7, 3)).item() == pytest.approx(math.log(12), rel=1e-6)


def test_invariant_to_joint_permutation_and_queue_order() -> None:
    q, k, neg = rand(6, 4, seed=0), rand(6, 4, seed=1), rand(9, 4, seed=2)
    perm = torch.randperm(6, generator=torch.Generator().manual_seed(3))
    base = info_nce(q, k, 0.2, neg).item()
    assert info_nce(q[perm], k[perm], 0.2, neg.flip(0)).item() == pytest.approx(base, rel=1e-12)


@pytest.mark.parametrize("chunk_size", [1, 4, None])
def test_blocked_equals_dense_value_and_gradient(chunk_size: int | None) -> None:
    q, k, neg = rand(7, 4, seed=0), rand(7, 4, seed=1), rand(5, 4, seed=2)
    got = info_nce(q, k, 0.1, neg, chunk_size=chunk_size)
    want = dense_info_nce(q, k, 0.1, neg)
    assert got.item() == pytest.approx(want.item(), rel=1e-12)
    for x, y in zip(
        torch.autograd.grad(got, (q, k, neg)), torch.autograd.grad(want, (q, k, neg)), strict=True
    ):
        torch.testing.assert_close(x, y, rtol=1e-10, atol=1e-12)


def test_gradcheck_float64_with_queue_ids_and_mask() -> None:
    q, k, neg = rand(5, 3, seed=0), rand(5, 3, seed=1), rand(4, 3, seed=2)
    ids = torch.tensor([0, 1, 1, 2, 3])
    mask = torch.zeros(5, 5, dtype=torch.bool)
    mask[0, 4] = True
    assert torch.autograd.gradcheck(
        lambda a, b, c: info_nce(a, b, 0.3, c, ids=ids, mask=mask, chunk_size=2), (q, k, neg)
    )


def test_ids_make_equal_ids_positives() -> None:
    q, k = rand(6, 4, seed=0), rand(6, 4, seed=1)
    ids = torch.tensor([0, 1, 1, 2, 0, 3])
    expected = ref.info_nce(q.detach().numpy(), k.detach().numpy(), 0.5, ids=ids.numpy())
    assert info_nce(q, k, 0.5, ids=ids).item() == pytest.approx(expected, rel=1e-10)


def test_errors_and_module() -> None:
    q, k = rand(4, 3, seed=0), rand(4, 3, seed=1)
    with pytest.raises(ValueError, match="temperature must be > 0"):
        info_nce(q, k, 0.0)
    with pytest.raises(ValueError, match=r"negatives must have shape \(K, 3\)"):
        info_nce(q, k, 0.1, torch.randn(5, 2))
    with pytest.raises(ValueError, match="ids must be >= 0"):
        info_nce(q, k, 0.1, ids=torch.tensor([0, -1, 2, 3]))
    module = InfoNCELoss(temperature=0.2)
    assert module(q, k).item() == pytest.approx(info_nce(q, k, 0.2).item(), rel=1e-12)
