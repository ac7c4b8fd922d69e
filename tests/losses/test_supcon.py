"""SupCon: reference, reductions to NT-Xent, single-view classes, gradients, blocked == dense."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from contrastkit.losses import SupConLoss, nt_xent, supcon
from reference import contrastive as ref


def views(n: int = 6, v: int = 2, d: int = 4, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, v, d, generator=g, dtype=torch.float64, requires_grad=True)


def dense_supcon(z: torch.Tensor, labels: torch.Tensor, t: float) -> torch.Tensor:
    n, v, _ = z.shape
    rows = F.normalize(z.reshape(n * v, -1), dim=1)
    lab = labels.repeat_interleave(v)
    logits = rows @ rows.T / t
    eye = torch.eye(n * v, dtype=torch.bool)
    log_prob = logits.masked_fill(eye, float("-inf")).log_softmax(1)
    pos = (lab[:, None] == lab[None, :]) & ~eye
    per = -(log_prob.masked_fill(~pos, 0).sum(1)) / pos.sum(1).clamp_min(1)
    return per[pos.any(1)].mean()


@pytest.mark.parametrize("v", [1, 2, 3])
def test_matches_numpy_reference(v: int) -> None:
    z = views(7, v)
    labels = torch.tensor([0, 1, 0, 2, 1, 3, 0])
    expected = ref.supcon(z.detach().numpy(), labels.numpy(), 0.1)
    assert supcon(z, labels, 0.1).item() == pytest.approx(expected, rel=1e-10)


def test_unique_labels_two_views_is_nt_xent() -> None:
    z = views(5, 2)
    got = supcon(z, torch.arange(5), 0.5)
    assert got.item() == pytest.approx(nt_xent(z[:, 0], z[:, 1], 0.5).item(), rel=1e-12)
    assert supcon(z, None, 0.5).item() == pytest.approx(got.item(), rel=1e-12)


def test_anchors_without_positive_are_skipped_and_none_gives_zero() -> None:
    z = views(3, 1)
    assert supcon(z, torch.tensor([0, 1, 2])).item() == 0.0
    z = views(4, 1)
    labels = torch.tensor([0, 0, 1, 2])
    expected = ref.supcon(z.detach().numpy(), labels.numpy(), 0.1)
    assert supcon(z, labels).item() == pytest.approx(expected, rel=1e-10)


def test_label_permutation_invariance() -> None:
    z = views(6, 2)
    labels = torch.tensor([0, 1, 0, 2, 1, 2])
    relabel = torch.tensor([5, 9, 7])[labels]
    perm = torch.randperm(6, generator=torch.Generator().manual_seed(2))
    base = supcon(z, labels).item()
    assert supcon(z, relabel).item() == pytest.approx(base, rel=1e-12)
    assert supcon(z[perm], labels[perm]).item() == pytest.approx(base, rel=1e-12)


@pytest.mark.parametrize("chunk_size", [1, 5, None])
def test_blocked_equals_dense_value_and_gradient(chunk_size: int | None) -> None:
    z = views(6, 3)
    labels = torch.tensor([0, 1, 0, 2, 1, 3])
    got = supcon(z, labels, 0.2, chunk_size=chunk_size)
    want = dense_supcon(z, labels, 0.2)
    assert got.item() == pytest.approx(want.item(), rel=1e-12)
    torch.testing.assert_close(
        torch.autograd.grad(got, z)[0], torch.autograd.grad(want, z)[0], rtol=1e-10, atol=1e-12
    )


def test_gradcheck_float64_with_mask() -> None:
    z = views(4, 2, 3)
    labels = torch.tensor([0, 1, 0, 2])
    mask = torch.zeros(4, 4, dtype=torch.bool)
    mask[1, 3] = True
    assert torch.autograd.gradcheck(lambda x: supcon(x, labels, 0.3, mask=mask, chunk_size=3), (z,))


def test_errors_and_module() -> None:
    z = views(4, 2)
    with pytest.raises(ValueError, match=r"z must have shape \(N, V, D\)"):
        supcon(z[:, 0], torch.arange(4))
    with pytest.raises(ValueError, match=r"labels must have shape \(4,\)"):
        supcon(z, torch.arange(5))
    with pytest.raises(ValueError, match="labels must be an integer tensor"):
        supcon(z, torch.zeros(4))
    with pytest.raises(ValueError, match="temperature must be > 0"):
        supcon(z, torch.arange(4), -1.0)
    labels = torch.tensor([0, 0, 1, 1])
    assert SupConLoss(temperature=0.3)(z, labels).item() == pytest.approx(
        supcon(z, labels, 0.3).item(), rel=1e-12
    )
