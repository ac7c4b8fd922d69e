"""Checkpoints: everything needed to continue a run bit for bit, written atomically.

A checkpoint holds plain data only: tensors (weights, optimizer moments, the RNG states as
uint8 tensors), dicts, lists, tuples, numbers, strings and None. It is read with
`torch.load(..., weights_only=True)`, so a crafted `checkpoint.pt` carrying a pickled
object (whose `__reduce__` would run code) is refused before anything runs. A checkpoint
is never written with a NaN or infinite value in any floating-point tensor: a diverged
model does not replace the last good one.
"""

from __future__ import annotations

import math
import pickle
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import torch
from torch import Tensor

from contrastkit.atomic import write_atomic
from contrastkit.errors import TrainingDiverged, UserError


class NonFiniteCheckpointError(TrainingDiverged):
    """A checkpoint was refused because a tensor in it holds NaN or infinity."""


def _tensors(obj: Any, where: str) -> Iterator[tuple[str, Tensor]]:
    """Every tensor inside nested dicts / lists / tuples, with its dotted path."""
    if isinstance(obj, Tensor):
        yield where, obj
    elif isinstance(obj, dict):
        for key, value in obj.items():
            yield from _tensors(value, f"{where}.{key}" if where else str(key))
    elif isinstance(obj, (list, tuple)):
        for index, value in enumerate(obj):
            yield from _tensors(value, f"{where}[{index}]")


def first_non_finite(state: Any) -> str | None:
    """The dotted path of the first floating-point tensor (or float) in `state` holding NaN
    or +-inf, or None when every value is finite."""
    for where, tensor in _tensors(state, ""):
        if (tensor.is_floating_point() or tensor.is_complex()) and not bool(
            torch.isfinite(tensor).all()
        ):
            return where
    if isinstance(state, dict):
        for key, value in state.items():
            if isinstance(value, float) and not math.isfinite(value):
                return str(key)
    return None


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write `state` (model, optimizer, RNG states, epoch...) to `path` atomically.

    Raises:
        NonFiniteCheckpointError: a tensor in `state` holds NaN or infinity; nothing is
            written and the checkpoint already at `path` (the last good one) stays.
        UserError: the file cannot be written (a full disk); the checkpoint already at
            `path` stays, and the message says so.
    """
    bad = first_non_finite(state)
    if bad is not None:
        raise NonFiniteCheckpointError(
            f"{path}: not saved: '{bad}' holds NaN or infinity (training diverged); "
            "lower train.lr or set train.grad_clip"
        )
    kept = (
        "the last good checkpoint is kept: continue with `contrastkit train --resume --out "
        f"{path.parent}` once there is room"
        if path.is_file()
        else ""
    )
    write_atomic(path, lambda handle: _save(state, handle), kept=kept)


class _Writes:
    """A file's `write` that remembers the OSError it raised: `torch.save` turns an error of
    the file it writes into a RuntimeError, and a full disk must stay an OSError."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.error: OSError | None = None

    def write(self, data: bytes) -> int:
        try:
            return self.handle.write(data)
        except OSError as err:
            self.error = err
            raise

    def flush(self) -> None:
        self.handle.flush()


def _save(state: dict[str, Any], handle: IO[bytes]) -> None:
    """`torch.save` straight into the file: no copy of the state in memory, which the
    model and optimizer state would make the peak of a run's memory."""
    writes = _Writes(handle)
    try:
        torch.save(state, writes)  # type: ignore[arg-type]
    except RuntimeError:
        if writes.error is not None:
            raise writes.error from None
        raise


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Read a checkpoint written by `save_checkpoint` (tensors land on the CPU).

    Only plain data is unpickled (`weights_only=True`): no code in the file runs.

    Raises:
        UserError: the file is missing, truncated or corrupt, carries pickled objects
            (not a contrastkit checkpoint, or written by an untrusted tool), or is not a
            dict with a "model" entry. Each message names the file.
    """
    if not path.is_file():
        raise UserError(f"checkpoint not found: {path}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pickle-protocol notes of foreign files
            state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        if "weights only" in str(err).lower():
            raise UserError(
                f"{path}: refused to load: not a contrastkit checkpoint or written by an "
                "untrusted tool (it holds pickled objects, which could run code; only "
                "tensors, numbers, strings, lists and dicts are read)"
            ) from None
        raise UserError(f"{path}: checkpoint is truncated or corrupt ({err})") from None
    except Exception as err:  # torch raises OSError, KeyError, RuntimeError... on damage
        reason = str(err) or type(err).__name__
        raise UserError(f"{path}: checkpoint is truncated or corrupt ({reason})") from None
    if not isinstance(state, dict) or "model" not in state:
        raise UserError(
            f"{path}: not a contrastkit checkpoint (expected a dict with a 'model' entry)"
        )
    return state


def checkpoint_state(path: Path) -> str:
    """What a stopped run left at `path`, for its error message: the last good checkpoint
    and its epoch, or that none was written."""
    if not path.is_file():
        return "no checkpoint was written yet"
    try:
        epoch = int(load_checkpoint(path).get("epoch", 0))
    except UserError:
        return f"{path} is not a readable checkpoint"
    return f"the last good checkpoint ({epoch} complete epoch(s)) is kept in {path}"
