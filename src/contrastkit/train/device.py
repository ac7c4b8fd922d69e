"""Pick the training device."""

from __future__ import annotations

from pathlib import Path

import torch

from contrastkit.errors import UserError


def resolve_device(name: str) -> torch.device:
    """'auto' -> CUDA when available, else CPU; anything else must name an available device."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise UserError(
            f"train.device: unknown device {name!r} (try 'auto', 'cpu', 'cuda')"
        ) from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UserError("train.device: 'cuda' asked for but no CUDA device is available")
    return device


CPUINFO = Path("/proc/cpuinfo")


def cpu_has_amx(cpuinfo: Path = CPUINFO) -> bool:
    """Whether the CPU multiplies bf16 matrices in hardware (Intel AMX: `amx_bf16` among the
    flags of /proc/cpuinfo); False where that file cannot be read (not Linux)."""
    try:
        lines = cpuinfo.read_text().splitlines()
    except OSError:
        return False
    return any(line.startswith("flags") and "amx_bf16" in line.split() for line in lines)


def device_line(device: torch.device, *, amp: bool, cpuinfo: Path = CPUINFO) -> str:
    """The run's `device:` line; on a CPU with AMX training in fp32, it says that bf16 would
    be faster (measured in docs/vision.md, `train.amp`)."""
    line = f"device: {device}"
    if device.type == "cpu" and not amp and cpu_has_amx(cpuinfo):
        line += (
            " (this CPU has AMX: --set train.amp=true trains in bf16, 1.8-2.7x faster "
            "on ResNets; docs/vision.md)"
        )
    return line
