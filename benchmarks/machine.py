"""What each benchmark's JSON says about the machine and the run: benchmarks compare
ratios measured in the same run, and the load average tells whether the machine was idle."""

from __future__ import annotations

import argparse
import os
import platform
from typing import Any

import torch


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages, rounded."""
    return [round(x, 2) for x in os.getloadavg()]


def run_header(args: argparse.Namespace) -> dict[str, Any]:
    """Machine, load average before the run, torch version and the command-line arguments."""
    return {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "load_average_before": load_average(),
        "torch": torch.__version__,
        "args": {k: str(v) for k, v in vars(args).items()},
    }
