"""Checkpoints: everything needed to continue a run bit for bit, written atomically."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import torch

from contrastkit.atomic import write_atomic
from contrastkit.errors import UserError


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write `state` (model, optimizer, RNG states, epoch...) to `path` atomically."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    write_atomic(path, lambda handle: handle.write(buffer.getvalue()))


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Read a checkpoint written by `save_checkpoint` (tensors land on the CPU)."""
    if not path.is_file():
        raise UserError(f"checkpoint not found: {path}")
    try:
        state: dict[str, Any] = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:  # torch raises several types for a damaged file
        raise UserError(f"{path}: cannot read checkpoint ({err})") from None
    return state
