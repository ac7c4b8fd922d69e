"""Sampled softmax with log-Q correction: NumPy reference, closed forms, duplicate masking,
gradcheck."""

from __future__ import annotations

import math
import multiprocessing
import socket
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp

from contrastkit.losses import SampledSoftmaxLoss, info_nce, sampled_softmax


def rand(*shape: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64, requires_grad=True)


def numpy_reference(
    u: np.ndarray, v: np.ndarray, log_q: np.ndarray, t: float, ids: np.ndarray
) -> float:
    """Yi et al. 2019 Eq. 3 row by row, with the slow obvious loops."""
    u = u / np.linalg.norm(u, axis=1, keepdims=True)
    v = v / np.linalg.norm(v, axis=1, keepdims=True)
    total = 0.0
    for i in range(len(u)):
        pos = u[i] @ v[i] / t - log_q[i]
        terms = [
            math.exp(u[i] @ v[j] / t - log_q[j])
            for j in range(len(v))
            if j == i or ids[j] != ids[i]
        ]
        total += -pos + math.log(sum(terms))
    return total / len(u)


def test_matches_numpy_reference_with_duplicates() -> None:
    u, v = rand(7, 5, seed=0), rand(7, 5, seed=1)
    ids = torch.tensor([3, 1, 3, 4, 1, 0, 9])
    log_q = torch.log(torch.tensor([0.2, 0.05, 0.2, 0.01, 0.05, 0.3, 0.001], dtype=torch.float64))
    got = sampled_softmax(u, v, log_q, temperature=0.3, item_ids=ids)
    want = numpy_reference(u.detach().numpy(), v.detach().numpy(), log_q.numpy(), 0.3, ids.numpy())
    assert got.item() == pytest.approx(want, rel=1e-12)


def test_uniform_q_is_plain_info_nce() -> None:
    u, v = rand(6, 4, seed=2), rand(6, 4, seed=3)
    plain = info_nce(u, v, 0.1).item()
    assert sampled_softmax(u, v, None, temperature=0.1).item() == pytest.approx(plain, rel=1e-12)
    const = torch.full((6,), math.log(1 / 500), dtype=torch.float64)
    assert sampled_softmax(u, v, const, temperature=0.1).item() == pytest.approx(plain, rel=1e-12)


def test_identical_embeddings_closed_form() -> None:
    # all cosines 1: logits_ij = s - log q_j, so L_i = log q_i + log sum_j 1/q_j
    z = torch.ones(4, 3, dtype=torch.float64)
    q = torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=torch.float64)
    want = float((torch.log(q) + torch.log((1 / q).sum())).mean())
    assert sampled_softmax(z, z, q.log(), temperature=0.5).item() == pytest.approx(want, rel=1e-12)
    # without correction: log B
    assert sampled_softmax(z, z, temperature=0.5).item() == pytest.approx(math.log(4), rel=1e-12)


def test_duplicates_all_masked_gives_zero_loss() -> None:
    # every row is the same item: each user's only candidate is its own column
    u, v = rand(5, 3, seed=4), rand(5, 3, seed=5)
    loss = sampled_softmax(u, v, temperature=0.2, item_ids=torch.zeros(5, dtype=torch.long))
    assert loss.item() == pytest.approx(0.0, abs=1e-12)


def test_gradcheck_float64() -> None:
    u, v = rand(5, 3, seed=6), rand(5, 3, seed=7)
    log_q = torch.log(torch.tensor([0.1, 0.3, 0.1, 0.2, 0.3], dtype=torch.float64))
    ids = torch.tensor([0, 1, 0, 2, 3])
    assert torch.autograd.gradcheck(
        lambda a, b: sampled_softmax(a, b, log_q, temperature=0.4, item_ids=ids), (u, v)
    )


def test_float32_under_autocast_and_module() -> None:
    u, v = torch.randn(8, 4), torch.randn(8, 4)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = SampledSoftmaxLoss(temperature=0.05)(u.bfloat16(), v.bfloat16())
    assert got.dtype == torch.float32 and torch.isfinite(got)


def test_bad_arguments() -> None:
    u = torch.randn(4, 3)
    with pytest.raises(ValueError, match="temperature must be > 0"):
        sampled_softmax(u, u, temperature=0.0)
    with pytest.raises(ValueError, match=r"log_q must have shape \(4,\)"):
        sampled_softmax(u, u, torch.zeros(3))
    with pytest.raises(ValueError, match="finite"):
        sampled_softmax(u, u, torch.tensor([0.0, -float("inf"), 0.0, 0.0]))
    with pytest.raises(ValueError, match="same shape"):
        sampled_softmax(u, torch.randn(5, 3))
    with pytest.raises(ValueError, match="temperature"):
        SampledSoftmaxLoss(temperature=-1.0)


N, D = 8, 4
ITEM_IDS = torch.tensor([0, 3, 1, 3, 2, 0, 5, 4])  # duplicates across ranks
LOG_Q = torch.log(torch.tensor([0.3, 0.1, 0.2, 0.1, 0.05, 0.3, 0.05, 0.2], dtype=torch.float64))


def leaves() -> tuple[torch.Tensor, torch.Tensor]:
    return rand(N, D, seed=10), rand(N, D, seed=11)


def case(rows: slice, gather: bool) -> tuple[float, torch.Tensor, torch.Tensor]:
    u, v = leaves()
    loss = sampled_softmax(
        u[rows], v[rows], LOG_Q[rows], temperature=0.3, item_ids=ITEM_IDS[rows], gather=gather
    )
    loss.backward()
    assert u.grad is not None and v.grad is not None
    return loss.item(), u.grad, v.grad


def worker(rank: int, world: int, port: int, out_dir: str) -> None:
    import torch.distributed as dist

    torch.set_num_threads(1)
    dist.init_process_group(
        "gloo",
        init_method=f"tcp://127.0.0.1:{port}",
        rank=rank,
        world_size=world,
        timeout=timedelta(seconds=60),
    )
    try:
        n = N // world
        torch.save(case(slice(rank * n, (rank + 1) * n), True), Path(out_dir) / f"r{rank}.pt")
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_gather_over_two_processes_equals_the_global_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GLOO_SOCKET_IFNAME", "lo")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    multiprocessing.set_forkserver_preload(["torch", "contrastkit.losses"])
    mp.start_processes(
        worker, args=(2, port, str(tmp_path)), nprocs=2, join=True, start_method="forkserver"
    )
    want_loss, want_u, want_v = case(slice(None), False)
    got = [torch.load(tmp_path / f"r{r}.pt") for r in range(2)]
    assert (got[0][0] + got[1][0]) / 2 == pytest.approx(want_loss, rel=1e-10)
    for r in range(2):  # own rows: world_size x the global gradient (DDP averages)
        rows = slice(r * 4, (r + 1) * 4)
        torch.testing.assert_close(got[r][1][rows], 2 * want_u[rows])
        torch.testing.assert_close(got[r][2][rows], 2 * want_v[rows])
