"""GradCache under DDP: 2 gloo processes, each with half the batch in chunks, end with the
loss and parameter gradients of one process holding the whole batch (plain step)."""

from __future__ import annotations

import gc
import sys
from contextlib import nullcontext
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from contrastkit.augment.image import to_float
from contrastkit.batches import ImageBatch
from contrastkit.data.digits import load_digits
from contrastkit.train import ddp
from contrastkit.train.step import grad_cache_loss, plain_loss

sys.path.insert(0, str(Path(__file__).parent))
from in_batch_simclr import no_batch_stats  # noqa: E402

WORLD, GLOBAL_BATCH = 2, 16


def flip_views(images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Deterministic views: the first view as is, the second mirrored (two calls a batch)."""
    flip_views.calls += 1  # type: ignore[attr-defined]
    x = to_float(images)
    return x.flip(-1) if flip_views.calls % 2 == 0 else x  # type: ignore[attr-defined]


flip_views.calls = 0  # type: ignore[attr-defined]


def digits() -> ImageBatch:
    x = load_digits().x_train[:GLOBAL_BATCH]
    return ImageBatch(images=x, labels=torch.full((GLOBAL_BATCH,), -1))


def rank_step() -> dict[str, object]:
    """This rank's GradCache step: the global loss and the averaged gradients, as plain
    tensors (the graph, whose collectives hold the process group, dies on return)."""
    method = no_batch_stats()
    step = grad_cache_loss(method, flip_views, chunk_size=3, amp=nullcontext)
    loss, backward = step(digits().take(ddp.shard(torch.arange(GLOBAL_BATCH))), None)
    backward()  # averages the gradients over the ranks
    grads = {name: p.grad.detach().clone() for name, p in method.named_parameters()}
    return {"loss": float(ddp.mean_over_ranks(loss)), "grads": grads}  # a collective


def worker(rank: int, init_file: str, out: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=WORLD)
    try:
        result = rank_step()
        if rank == 0:
            torch.save(result, out)
        dist.barrier()
    finally:
        # Free what still refers to the process group (the graph of the gathers) before
        # destroying it, so that none of it is left for the interpreter's exit: a rank
        # aborted now and then at teardown ("terminate called without an active
        # exception", SIGABRT) while other tests loaded the machine.
        gc.collect()
        dist.destroy_process_group()


@pytest.mark.slow
def test_grad_cache_on_two_processes_equals_one_process_with_the_whole_batch(
    tmp_path: Path,
) -> None:
    method = no_batch_stats()
    loss, backward = plain_loss(ddp.LossForward(method), flip_views)(digits(), None)
    backward()
    out = tmp_path / "rank0.pt"
    mp.spawn(worker, args=(str(tmp_path / "init"), str(out)), nprocs=WORLD, join=True)
    got = torch.load(out)
    assert got["loss"] == pytest.approx(loss.item(), rel=1e-5)
    for name, p in method.named_parameters():
        torch.testing.assert_close(got["grads"][name], p.grad, rtol=1e-4, atol=1e-6, msg=name)
