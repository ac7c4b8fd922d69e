"""One intra-op thread for the multimodal tests: their tensors are tiny, and on a shared
2-core machine OpenMP threads waiting on each other cost more than they compute."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
