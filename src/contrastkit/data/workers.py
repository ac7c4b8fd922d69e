"""How many loader worker processes read and decode data."""

from __future__ import annotations

import os

MAX_AUTO_WORKERS = 4


def auto_workers(requested: int | None, *, in_memory: bool) -> int:
    """Worker processes for the loader: `requested` when set; else 0 for data already in
    memory (indexing is cheaper than sending the batch between processes), otherwise
    min(4, usable CPU cores - 1): one core stays with the training process."""
    if requested is not None:
        return requested
    if in_memory:
        return 0
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(0, min(MAX_AUTO_WORKERS, (cores or 1) - 1))
