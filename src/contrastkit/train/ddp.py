"""Multi-process training with `torchrun` (DDP): process-group setup, the wrapped loss,
per-rank batch slices, and the few collectives the loop needs.

`torchrun --nproc-per-node 2 -m contrastkit train ...` sets RANK, WORLD_SIZE, LOCAL_RANK,
MASTER_ADDR and MASTER_PORT; `start` joins the group (gloo on the CPU, NCCL on CUDA).
`train.batch_size` is the global batch: every rank walks the same shuffled order and takes
its contiguous slice of each global batch, so 2 processes x B see what 1 process x 2B sees.
"""

from __future__ import annotations

import os
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel

from contrastkit.distributed import all_reduce_max, all_reduce_sum, rank, world_size
from contrastkit.errors import UserError
from contrastkit.methods.base import Method
from contrastkit.train.sync_batchnorm import convert_to_global_batchnorm

TORCHRUN_VARS = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")
LAUNCH_HINT = "launch with `torchrun --nproc-per-node N -m contrastkit train ...`"


def launched_distributed() -> bool:
    """True when torchrun started this process as one of several (WORLD_SIZE > 1).

    Raises:
        UserError: A partial torchrun environment (some variables set, others missing).
    """
    present = [name for name in TORCHRUN_VARS if name in os.environ]
    if not present:
        return False
    missing = [name for name in TORCHRUN_VARS if name not in os.environ]
    if missing:
        raise UserError(
            f"multi-process launch: environment has {', '.join(present)} but not "
            f"{', '.join(missing)}; {LAUNCH_HINT}"
        )
    return int(os.environ["WORLD_SIZE"]) > 1


def single_process_only(command: str) -> None:
    """Refuse a torchrun launch of a command that is not `train`.

    Raises:
        UserError: When launched as one of several processes.
    """
    if launched_distributed():
        raise UserError(
            f"`contrastkit {command}` runs in one process; only `train` runs under "
            f"torchrun (run `contrastkit {command} ...` without torchrun)"
        )


def start(device: torch.device) -> torch.device:
    """Join the process group when launched by torchrun; returns this rank's device.

    Raises:
        UserError: Bad launch environment, or more ranks on a node than GPUs.
    """
    if not launched_distributed() or dist.is_initialized():
        return device
    local_rank = int(os.environ["LOCAL_RANK"])
    if device.type == "cuda":
        if local_rank >= torch.cuda.device_count():
            raise UserError(
                f"multi-process launch: LOCAL_RANK {local_rank} but only "
                f"{torch.cuda.device_count()} CUDA device(s); use --nproc-per-node <= GPUs "
                "or train.device=cpu"
            )
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return device


def stop() -> None:
    """Leave the process group (no-op without one)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def per_rank_batch(batch_size: int) -> int:
    """This rank's share of the global batch.

    Raises:
        UserError: If the global batch does not split evenly over the ranks.
    """
    world = world_size()
    if batch_size % world != 0:
        raise UserError(
            f"train.batch_size={batch_size} is the global batch and must be divisible by the "
            f"number of processes ({world})"
        )
    return batch_size // world


def shard(global_indices: Tensor) -> Tensor:
    """This rank's contiguous slice of a global batch of indices."""
    size = global_indices.shape[0] // world_size()
    return global_indices[rank() * size : (rank() + 1) * size]


class LossForward(nn.Module):
    """Makes `method.training_loss` the module's forward, which DDP needs to sync gradients."""

    def __init__(self, method: Method[Any]) -> None:
        super().__init__()
        self.method = method

    def forward(self, batch: Any, *, augment: Any, generator: torch.Generator | None) -> Tensor:
        return self.method.training_loss(batch, augment=augment, generator=generator)


def wrap(method: Method[Any], *, sync_batchnorm: bool) -> nn.Module:
    """The module the loop calls for the loss: DDP around the method under torchrun.

    `sync_batchnorm` replaces BatchNorm by `GlobalBatchNorm` (statistics over all ranks,
    CPU included), in place, so the method's state_dict keys do not change.
    """
    if world_size() == 1:
        return LossForward(method)
    if sync_batchnorm:
        for name, child in method.named_children():
            method.add_module(name, convert_to_global_batchnorm(child))
    device_ids = [method_device(method).index] if method_device(method).type == "cuda" else None
    return DistributedDataParallel(LossForward(method), device_ids=device_ids)


def method_device(method: nn.Module) -> torch.device:
    return next(method.parameters()).device


def mean_over_ranks(x: Tensor) -> Tensor:
    """The mean of a detached scalar over ranks (the global loss for logging / NaN guard)."""
    return all_reduce_sum(x.detach().float()) / world_size()


@torch.no_grad()
def average_gradients(module: nn.Module) -> None:
    """Every parameter gradient of `module` becomes its mean over ranks, in one all-reduce:
    DDP's convention for a backward that did not run through DDP's forward (GradCache).
    No-op in one process."""
    if world_size() == 1:
        return
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    flat = all_reduce_sum(torch.cat([g.flatten() for g in grads])) / world_size()
    offset = 0
    for grad in grads:
        grad.copy_(flat[offset : offset + grad.numel()].view_as(grad))
        offset += grad.numel()


def any_rank(flag: bool) -> bool:
    """True on every rank when `flag` is True on at least one (e.g. stop on collapse)."""
    return bool(all_reduce_max(torch.tensor(float(flag))) > 0)


def gather_objects(obj: object) -> list[object]:
    """`obj` of every rank, in rank order (e.g. each rank's augmentation RNG state)."""
    if world_size() == 1:
        return [obj]
    out: list[object] = [None] * world_size()
    dist.all_gather_object(out, obj)
    return out
