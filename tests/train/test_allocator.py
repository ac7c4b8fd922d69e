"""Keeping freed memory: blocks freed and allocated again need no fresh pages (glibc's
default trims the freed heap top and faults every page in again, as a training step's
activations did)."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

CYCLES = """
import resource, sys
import numpy as np
if sys.argv[1] == "keep":
    from contrastkit.train.allocator import keep_freed_memory
    assert keep_freed_memory()
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
def cycle():  # a step: four 16 MiB activations written, then freed together
    blocks = [np.ones(16 * 2**20, dtype=np.uint8) for _ in range(4)]
    del blocks
cycle()
before = faults()
for _ in range(10):
    cycle()
print(faults() - before)
"""


def _faults(mode: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", CYCLES, mode], capture_output=True, text=True, check=True
    )
    return int(done.stdout)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_freed_blocks_are_reused_without_page_faults() -> None:
    # measured: about 20,000 faults in 10 cycles with the default, 0 when kept
    assert _faults("default") > 10_000  # the heap top trimmed, faulted in again
    assert _faults("keep") < 200
