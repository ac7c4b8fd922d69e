"""SwAV and Sinkhorn-Knopp: reference, marginals, gradients, queue."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from contrastkit.losses import SwAVLoss, sinkhorn_knopp, swav
from reference import non_contrastive as ref


def scores(v: int, n: int, k: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(v, n, k, generator=g, dtype=torch.float64).tanh()
    return x.requires_grad_()


def test_sinkhorn_matches_reference_and_balances_prototypes() -> None:
    s = scores(1, 12, 5)[0].detach()
    q = sinkhorn_knopp(s, epsilon=0.05, iterations=3)
    np.testing.assert_allclose(q.numpy(), ref.sinkhorn(s.numpy(), 0.05, 3), rtol=1e-8)
    torch.testing.assert_close(q.sum(1), torch.ones(12, dtype=torch.float64))
    many = sinkhorn_knopp(s, epsilon=0.5, iterations=200)
    torch.testing.assert_close(many.sum(0), torch.full((5,), 12 / 5, dtype=torch.float64))


@pytest.mark.parametrize("views", [2, 4])
def test_matches_numpy_reference(views: int) -> None:
    s = scores(views, 8, 6)
    expected = ref.swav(s.detach().numpy(), 0.1, 0.05, 3)
    assert swav(s).item() == pytest.approx(expected, rel=1e-9)


def test_gradient_flows_through_predictions_only() -> None:
    s = scores(2, 5, 4)
    q = [torch.from_numpy(ref.sinkhorn(s[v].detach().numpy(), 0.05, 3)) for v in (0, 1)]
    logp = torch.log_softmax(s / 0.5, dim=2)
    fixed_codes = (-(q[0] * logp[1]).sum(1).mean() - (q[1] * logp[0]).sum(1).mean()) / 2
    want = torch.autograd.grad(fixed_codes, s)[0]
    got = torch.autograd.grad(swav(s, temperature=0.5), s)[0]
    torch.testing.assert_close(got, want, rtol=1e-9, atol=1e-12)


def test_queue_only_changes_codes() -> None:
    s = scores(2, 6, 4)
    queue = scores(2, 10, 4, seed=1).detach()
    with_queue = swav(s, queue_scores=queue)
    q0 = ref.sinkhorn(np.concatenate([queue[0].numpy(), s[0].detach().numpy()]), 0.05, 3)[-6:]
    q1 = ref.sinkhorn(np.concatenate([queue[1].numpy(), s[1].detach().numpy()]), 0.05, 3)[-6:]
    logp = torch.log_softmax(s.detach() / 0.1, dim=2).numpy()
    expected = (-np.mean(np.sum(q0 * logp[1], 1)) - np.mean(np.sum(q1 * logp[0], 1))) / 2
    assert with_queue.item() == pytest.approx(expected, rel=1e-9)


def test_errors_and_module() -> None:
    with pytest.raises(ValueError, match="V >= 2"):
        swav(scores(1, 4, 3))
    with pytest.raises(ValueError, match="assign_views"):
        swav(scores(2, 4, 3), assign_views=(0, 2))
    with pytest.raises(ValueError, match="queue_scores must have shape"):
        swav(scores(2, 4, 3), queue_scores=torch.zeros(1, 5, 3))
    with pytest.raises(ValueError, match="epsilon must be > 0"):
        SwAVLoss(epsilon=0.0)
    s = scores(3, 4, 3)
    assert SwAVLoss(temperature=0.2)(s).item() == pytest.approx(
        swav(s, temperature=0.2).item(), rel=1e-12
    )
