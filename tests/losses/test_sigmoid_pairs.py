"""SigLIP sigmoid loss: reference, closed form, learnable scale/bias, blocked == dense."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from contrastkit.losses import SigmoidPairsLoss, sigmoid_pairs
from reference import contrastive as ref


def rand(*shape: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64, requires_grad=True)


def dense_siglip(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor, bias: torch.Tensor):
    """SigLIP paper Algorithm 1."""
    n = a.shape[0]
    logits = F.normalize(a, dim=1) @ F.normalize(b, dim=1).T * t + bias
    labels = 2 * torch.eye(n, dtype=a.dtype) - 1
    return -F.logsigmoid(labels * logits).sum() / n


@pytest.mark.parametrize(("scale", "bias"), [(10.0, -10.0), (3.0, 0.5)])
def test_matches_numpy_reference(scale: float, bias: float) -> None:
    a, b = rand(6, 4, seed=0), rand(6, 4, seed=1)
    expected = ref.sigmoid_pairs(a.detach().numpy(), b.detach().numpy(), scale, bias)
    assert sigmoid_pairs(a, b, scale, bias).item() == pytest.approx(expected, rel=1e-10)


def test_ids_reference() -> None:
    a, b = rand(6, 4, seed=0), rand(6, 4, seed=1)
    ids = torch.tensor([0, 1, 1, 2, 0, 3])
    expected = ref.sigmoid_pairs(a.detach().numpy(), b.detach().numpy(), 2.0, -1.0, ids.numpy())
    assert sigmoid_pairs(a, b, 2.0, -1.0, ids=ids, chunk_size=4).item() == pytest.approx(
        expected, rel=1e-10
    )


def test_zero_logits_give_n_log_2() -> None:
    # scale -> tiny, bias 0: every pair is log 2, N pairs per row -> N log 2.
    a, b = rand(5, 3, seed=0), rand(5, 3, seed=1)
    got = sigmoid_pairs(a, b, 1e-12, 0.0)
    assert got.item() == pytest.approx(5 * math.log(2), rel=1e-9)


@pytest.mark.parametrize("chunk_size", [1, 3, None])
def test_blocked_equals_dense_with_learnable_scale_and_bias(chunk_size: int | None) -> None:
    a, b = rand(7, 4, seed=0), rand(7, 4, seed=1)
    t = torch.tensor(4.0, dtype=torch.float64, requires_grad=True)
    bias = torch.tensor(-2.0, dtype=torch.float64, requires_grad=True)
    got = sigmoid_pairs(a, b, t, bias, chunk_size=chunk_size)
    want = dense_siglip(a, b, t, bias)
    assert got.item() == pytest.approx(want.item(), rel=1e-12)
    inputs = (a, b, t, bias)
    for x, y in zip(
        torch.autograd.grad(got, inputs), torch.autograd.grad(want, inputs), strict=True
    ):
        torch.testing.assert_close(x, y, rtol=1e-10, atol=1e-12)


def test_gradcheck_float64_with_mask() -> None:
    a, b = rand(5, 3, seed=0), rand(5, 3, seed=1)
    t = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    bias = torch.tensor(-1.0, dtype=torch.float64, requires_grad=True)
    mask = torch.zeros(5, 5, dtype=torch.bool)
    mask[0, 2] = mask[3, 3] = True  # (3, 3) is positive: kept
    assert torch.autograd.gradcheck(
        lambda x, y, s, c: sigmoid_pairs(x, y, s, c, mask=mask, chunk_size=2), (a, b, t, bias)
    )


def test_mask_removes_pairs_from_the_sum() -> None:
    a, b = rand(4, 3, seed=0), rand(4, 3, seed=1)
    mask = torch.zeros(4, 4, dtype=torch.bool)
    mask[1, 2] = True
    logit = 10 * F.cosine_similarity(a[1], b[2], dim=0) - 10
    removed = F.softplus(logit) / 4
    got = sigmoid_pairs(a, b, mask=mask)
    assert got.item() == pytest.approx((sigmoid_pairs(a, b) - removed).item(), rel=1e-12)


def test_module_learns_log_scale_and_bias() -> None:
    module = SigmoidPairsLoss().double()
    assert module.log_scale.item() == pytest.approx(math.log(10))
    assert module.bias.item() == -10.0
    a, b = rand(4, 3, seed=0), rand(4, 3, seed=1)
    loss = module(a, b)
    # log(10) was stored in float32 before .double(): agree to float32 precision
    assert loss.item() == pytest.approx(sigmoid_pairs(a, b, 10.0, -10.0).item(), rel=1e-6)
    loss.backward()
    assert module.log_scale.grad is not None and module.bias.grad is not None
    with pytest.raises(ValueError, match="init_scale must be > 0"):
        SigmoidPairsLoss(init_scale=0.0)
    with pytest.raises(ValueError, match="scale must be > 0"):
        sigmoid_pairs(a, b, -1.0)
