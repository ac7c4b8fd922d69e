"""gather=True across 2 and 4 gloo processes equals one process holding the global batch.

Convention (see ``contrastkit.distributed``): the loss averaged over ranks is the global
loss; on rank r the gradient of its own rows is ``world_size *`` the global gradient of
those rows, and a shared leaf's gradient averaged over ranks (what DDP does) is the global
one. Runs on CPU with the gloo backend: part of the normal test suite, never skipped.
"""

from __future__ import annotations

import multiprocessing
import socket
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from contrastkit import distributed
from contrastkit import losses as L

N = 8  # global batch
D = 5
Leaves = dict[str, torch.Tensor]
# A case computes a loss from global leaves, using only the batch rows `rows`.
Case = Callable[[Leaves, slice, bool], torch.Tensor]


def make_leaves() -> tuple[Leaves, set[str]]:
    """Global inputs (identical in every process) and the names of shared leaves."""
    g = torch.Generator().manual_seed(0)

    def rand(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=g, dtype=torch.float64).requires_grad_()

    leaves = {
        "a": rand(N, D),
        "b": rand(N, D),
        "z": rand(N, 3, D),
        "scores": rand(3, N, 6),
        "scale": torch.tensor(4.0, dtype=torch.float64, requires_grad=True),
        "bias": torch.tensor(-2.0, dtype=torch.float64, requires_grad=True),
    }
    return leaves, {"scale", "bias"}


IDS = torch.tensor([0, 1, 2, 0, 3, 4, 1, 5])  # duplicates across ranks
LABELS = torch.tensor([0, 1, 2, 0, 1, 2, 3, 0])
MASK = torch.zeros(N, N, dtype=torch.bool)
MASK[0, 5] = MASK[5, 0] = MASK[2, 7] = MASK[6, 1] = True
QUEUE = torch.randn(4, D, generator=torch.Generator().manual_seed(1), dtype=torch.float64)

CASES: dict[str, Case] = {
    "nt_xent": lambda t, r, g: L.nt_xent(t["a"][r], t["b"][r], 0.3, gather=g),
    "nt_xent_ids_mask_chunked": lambda t, r, g: L.nt_xent(
        t["a"][r], t["b"][r], 0.3, ids=IDS[r], mask=MASK[r], chunk_size=3, gather=g
    ),
    "info_nce_queue_ids": lambda t, r, g: L.info_nce(
        t["a"][r], t["b"][r], 0.2, QUEUE, ids=IDS[r], mask=MASK[r], gather=g
    ),
    "supcon": lambda t, r, g: L.supcon(t["z"][r], LABELS[r], 0.2, chunk_size=4, gather=g),
    "dcl_weighted": lambda t, r, g: L.dcl(t["a"][r], t["b"][r], 0.2, sigma=0.5, gather=g),
    "n_pair": lambda t, r, g: L.n_pair(t["a"][r], t["b"][r], l2_reg=0.1, gather=g),
    "sigmoid_pairs": lambda t, r, g: L.sigmoid_pairs(
        t["a"][r], t["b"][r], t["scale"], t["bias"], ids=IDS[r], mask=MASK[r], gather=g
    ),
    "barlow_twins": lambda t, r, g: L.barlow_twins(t["a"][r], t["b"][r], gather=g),
    "vicreg": lambda t, r, g: L.vicreg(t["a"][r], t["b"][r], gather=g),
    "swav": lambda t, r, g: L.swav(t["scores"][:, r], gather=g),
}


def run_case(case: Case, rows: slice, gather: bool) -> tuple[float, Leaves]:
    leaves, _ = make_leaves()
    loss = case(leaves, rows, gather)
    loss.backward()
    grads = {k: v.grad.clone() for k, v in leaves.items() if v.grad is not None}
    return loss.item(), grads


def worker(rank: int, world: int, port: int, out_dir: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group(
        "gloo",
        init_method=f"tcp://127.0.0.1:{port}",
        rank=rank,
        world_size=world,
        timeout=timedelta(seconds=60),  # fail, never hang CI, if a peer dies
    )
    try:
        assert distributed.rank() == rank and distributed.world_size() == world
        n = N // world
        rows = slice(rank * n, (rank + 1) * n)
        results = {name: run_case(case, rows, True) for name, case in CASES.items()}
        torch.save(results, Path(out_dir) / f"rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
@pytest.mark.parametrize("world", [2, 4])
def test_gather_equals_single_process_global_batch(
    world: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GLOO_SOCKET_IFNAME", "lo")
    # forkserver: torch is imported once in the server, then each worker is a cheap fork
    # of a process that never started OpenMP threads (fork-safe, unlike plain fork).
    multiprocessing.set_forkserver_preload(["torch", "contrastkit.losses"])
    mp.start_processes(
        worker,
        args=(world, free_port(), str(tmp_path)),
        nprocs=world,
        join=True,
        start_method="forkserver",
    )
    per_rank = [torch.load(tmp_path / f"rank{r}.pt") for r in range(world)]
    _, shared = make_leaves()
    n = N // world
    for name, case in CASES.items():
        want_loss, want_grads = run_case(case, slice(None), False)
        losses = [per_rank[r][name][0] for r in range(world)]
        assert sum(losses) / world == pytest.approx(want_loss, rel=1e-10), name
        for leaf, want in want_grads.items():
            if leaf in shared:
                got = sum(per_rank[r][name][1][leaf] for r in range(world)) / world
                torch.testing.assert_close(got, want, msg=f"{name}: {leaf}")
                continue
            batch_dim = 1 if leaf == "scores" else 0
            for r in range(world):
                got = per_rank[r][name][1][leaf].narrow(batch_dim, r * n, n)
                expected = world * want.narrow(batch_dim, r * n, n)
                torch.testing.assert_close(got, expected, msg=f"{name}: {leaf} rank {r}")


def test_without_process_group_everything_is_a_no_op() -> None:
    assert not distributed.is_distributed()
    assert distributed.rank() == 0 and distributed.world_size() == 1
    x = torch.randn(3, 2, requires_grad=True)
    assert distributed.all_gather_with_grad(x) is x
    assert distributed.all_gather_no_grad(x) is x
    assert distributed.all_reduce_sum(x) is x
    assert distributed.all_reduce_max(x) is x
