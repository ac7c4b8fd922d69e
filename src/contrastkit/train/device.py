"""Pick the training device."""

from __future__ import annotations

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
