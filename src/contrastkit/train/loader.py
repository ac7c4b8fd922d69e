"""The DataLoader the training loop reads: seeded shuffled batches, each rank's shard,
worker processes, and the move of one batch to the training device.

Order: every epoch draws `torch.randperm(N, generator=shuffle_gen)` once, cuts it into
`N // B` global batches of B (the ragged last batch is dropped: BatchNorm needs full
ones) and each rank keeps its contiguous slice (`ddp.shard`). The permutation is drawn in
the main process (the sampler is never copied into the workers), so the number of workers
does not change the order, and a run resumed in the middle of an epoch draws the same
permutation again from the saved generator state and skips the batches already trained.

Workers: the loader gets its own generator (re-seeded from the run's seed at every epoch),
so creating an iterator never draws from the global torch RNG that the model uses; each
worker seeds `random` and `numpy` from its torch seed (`seed_worker`).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, Sampler

from contrastkit.train import ddp


class ShuffledBatches(Sampler[list[int]]):
    """This rank's indices of every global batch of a seeded shuffle, one epoch per `iter`.

    Args:
        n: Number of items.
        batch_size: The global batch B (all ranks together); `n // B` batches per epoch.
        generator: Drawn from once per epoch (`torch.randperm(n, generator=generator)`).

    Attributes:
        skip: Global batches to leave out at the start of the next epoch (a run resumed
            mid-epoch); reset to 0 once that epoch starts.
    """

    def __init__(self, n: int, *, batch_size: int, generator: torch.Generator) -> None:
        if batch_size < 1 or batch_size > n:
            raise ValueError(f"batch_size must lie in 1..{n}, got {batch_size}")
        self.n = n
        self.batch_size = batch_size
        self.generator = generator
        self.skip = 0

    @property
    def steps_per_epoch(self) -> int:
        return self.n // self.batch_size

    def __len__(self) -> int:
        return self.steps_per_epoch - self.skip

    def __iter__(self) -> Iterator[list[int]]:
        order = torch.randperm(self.n, generator=self.generator)  # (N,)
        start, self.skip = self.skip, 0
        b = self.batch_size
        for i in range(start, self.steps_per_epoch):
            yield ddp.shard(order[i * b : (i + 1) * b]).tolist()  # this rank's part


def seed_worker(worker_id: int) -> None:
    """Seed Python's and NumPy's RNGs in a worker from the seed torch gave it."""
    seed = torch.initial_seed() % 2**32
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 (the global RNG a dataset may use)


def build_loader(
    items: Dataset[Any],
    sampler: ShuffledBatches,
    *,
    collate: Callable[[Any], Any],
    workers: int,
    prefetch_factor: int,
    generator: torch.Generator,
    pin_memory: bool,
) -> DataLoader[Any]:
    """A DataLoader over `items` in the order of `sampler`; `workers` > 0 keeps its workers
    alive between epochs and has `prefetch_factor` batches in flight per worker."""
    extra: dict[str, Any] = {}
    if workers > 0:
        extra = {
            "prefetch_factor": prefetch_factor,
            "persistent_workers": True,
            "worker_init_fn": seed_worker,
        }
    return DataLoader(
        items,
        batch_sampler=sampler,
        collate_fn=collate,
        num_workers=workers,
        generator=generator,
        pin_memory=pin_memory,
        **extra,
    )


class Waited:
    """An iterable that adds up the time its consumer waits for each item (the loader's
    start-up included): what training spends blocked on data rather than computing.

    Example:
        >>> batches = Waited(loader)
        >>> for batch in batches: ...
        >>> batches.wait_s
    """

    def __init__(self, items: Iterable[Any]) -> None:
        self.items = items
        self.wait_s = 0.0

    def __iter__(self) -> Iterator[Any]:
        start = time.perf_counter()
        it = iter(self.items)
        while True:
            try:
                item = next(it)
            except StopIteration:
                return
            finally:
                self.wait_s += time.perf_counter() - start
            yield item
            start = time.perf_counter()


def to_device(batch: Any, device: torch.device, *, non_blocking: bool = False) -> Any:
    """A batch on `device`: a Tensor, a tuple or list of tensors (None kept), or an object
    with `.to(device, non_blocking=...)` (the typed batches of `contrastkit.batches`)."""
    if isinstance(batch, Tensor):
        return batch.to(device, non_blocking=non_blocking)
    if isinstance(batch, tuple | list):
        return tuple(to_device(part, device, non_blocking=non_blocking) for part in batch)
    if batch is None:
        return None
    return batch.to(device, non_blocking=non_blocking)
