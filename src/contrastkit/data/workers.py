"""How many loader worker processes read and decode data."""

from __future__ import annotations

import os

MAX_AUTO_WORKERS = 4
MAX_AUTO_WORKERS_ACCELERATOR = 12
"""A GPU step takes a few milliseconds: decoding needs more of the machine's cores."""


def auto_workers(requested: int | None, *, in_memory: bool, accelerator: bool = False) -> int:
    """Worker processes for the loader: `requested` when set; else 0 for data already in
    memory (indexing is cheaper than sending the batch between processes), otherwise
    min(4, usable CPU cores - 1) when the CPU also trains, min(12, cores - 1) when an
    accelerator does: one core stays with the training process."""
    if requested is not None:
        return requested
    if in_memory:
        return 0
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    most = MAX_AUTO_WORKERS_ACCELERATOR if accelerator else MAX_AUTO_WORKERS
    return max(0, min(most, (cores or 1) - 1))
