"""Checkpoints read plain data only and never hold NaN: a crafted file runs no code, a
damaged file is one clear error, a diverged model does not replace the last good one."""

from __future__ import annotations

import errno
import os
import pickle
from pathlib import Path
from typing import IO

import pytest
import torch

from contrastkit.errors import UserError
from contrastkit.train.checkpoint import (
    NonFiniteCheckpointError,
    load_checkpoint,
    save_checkpoint,
)


def _state() -> dict[str, object]:
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model(torch.randn(4, 3)).sum().backward()
    optimizer.step()
    gen = torch.Generator().manual_seed(1)
    return {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "shuffle_rng": gen.get_state(),
        "augment_rng_ranks": [gen.get_state()],
        "torch_rng": torch.get_rng_state(),
        "epoch": 3,
        "elapsed_s": 1.25,
        "skipped": 0,
    }


class _Payload:
    """Unpickling this object would create `target`: the code a crafted file runs."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.target), "w"))


def test_a_saved_checkpoint_reads_back_exactly(tmp_path: Path) -> None:
    state = _state()
    save_checkpoint(tmp_path / "checkpoint.pt", state)
    back = load_checkpoint(tmp_path / "checkpoint.pt")
    assert back["epoch"] == 3 and back["elapsed_s"] == 1.25
    assert torch.equal(back["torch_rng"], state["torch_rng"])  # type: ignore[arg-type]
    for key, value in state["model"].items():  # type: ignore[attr-defined]
        assert torch.equal(back["model"][key], value)
    exp_avg = back["optimizer"]["state"][0]["exp_avg"]
    assert torch.equal(exp_avg, state["optimizer"]["state"][0]["exp_avg"])  # type: ignore[index]
    assert back["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)


@pytest.mark.parametrize("writer", ["torch_save", "plain_pickle"])
def test_a_pickled_object_is_refused_and_runs_no_code(tmp_path: Path, writer: str) -> None:
    target = tmp_path / "pwned"
    path = tmp_path / "checkpoint.pt"
    crafted = {"model": {}, "epoch": _Payload(target)}
    if writer == "torch_save":
        torch.save(crafted, path)
    else:
        path.write_bytes(pickle.dumps(crafted))
    with pytest.raises(UserError, match="not a contrastkit checkpoint or written by an untrusted"):
        load_checkpoint(path)
    assert not target.exists()
    try:
        load_checkpoint(path)
    except UserError as err:
        assert str(path) in str(err)


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_a_damaged_checkpoint_is_one_error_naming_the_file(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(path, _state())
    data = path.read_bytes()
    damaged = {"truncated": data[: len(data) // 2], "garbage": b"hello", "empty": b""}
    path.write_bytes(damaged[damage])
    with pytest.raises(UserError, match="truncated or corrupt") as info:
        load_checkpoint(path)
    assert str(path) in str(info.value)


def test_a_file_without_a_model_entry_is_not_a_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.pt"
    torch.save({"weights": torch.zeros(2)}, path)
    with pytest.raises(UserError, match="not a contrastkit checkpoint"):
        load_checkpoint(path)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_a_non_finite_weight_is_never_saved_and_the_last_good_one_stays(
    tmp_path: Path, bad: float
) -> None:
    path = tmp_path / "checkpoint.pt"
    good = _state()
    save_checkpoint(path, good)
    before = path.read_bytes()
    diverged = _state()
    diverged["model"]["weight"][0, 1] = bad  # type: ignore[index]
    with pytest.raises(NonFiniteCheckpointError, match=r"'model\.weight' holds NaN or infinity"):
        save_checkpoint(path, diverged)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]


def test_a_non_finite_optimizer_moment_is_refused_too(tmp_path: Path) -> None:
    state = _state()
    state["optimizer"]["state"][0]["exp_avg_sq"][0, 0] = float("nan")  # type: ignore[index]
    with pytest.raises(NonFiniteCheckpointError, match="optimizer.state.0.exp_avg_sq"):
        save_checkpoint(tmp_path / "checkpoint.pt", state)
    assert not (tmp_path / "checkpoint.pt").exists()


def test_saving_holds_no_copy_of_the_state_in_memory(tmp_path: Path) -> None:
    """The 40 MB of weights stream into the file: Python-side allocations during the save
    stay far below the state's size (an in-memory buffer of it held 1-2 copies)."""
    import tracemalloc

    state = {"model": {"w": torch.zeros(10_000_000)}, "epoch": 1}
    tracemalloc.start()
    try:
        save_checkpoint(tmp_path / "checkpoint.pt", state)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20, f"{peak / 2**20:.1f} MiB allocated while saving 38 MiB"
    assert torch.equal(
        load_checkpoint(tmp_path / "checkpoint.pt")["model"]["w"], state["model"]["w"]
    )


class _FullDisk:
    """A file open for writing on a disk that fills up after its first 512 bytes."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.room = 512

    def __enter__(self) -> _FullDisk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.close()

    def write(self, data: bytes) -> int:
        self.room -= len(data)
        if self.room < 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        return len(data)

    def flush(self) -> None:
        self.handle.flush()

    def fileno(self) -> int:
        return self.handle.fileno()


def test_a_full_disk_while_saving_is_the_disk_error_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """torch.save makes a RuntimeError of an error in the middle of its file; the save gives
    the disk's error."""
    save_checkpoint(tmp_path / "checkpoint.pt", _state())
    before = (tmp_path / "checkpoint.pt").read_bytes()
    fdopen = os.fdopen
    monkeypatch.setattr(os, "fdopen", lambda fd, mode: _FullDisk(fdopen(fd, mode)))
    with pytest.raises(UserError, match="disk is full.*last good checkpoint is kept"):
        save_checkpoint(tmp_path / "checkpoint.pt", _state())
    monkeypatch.undo()
    assert (tmp_path / "checkpoint.pt").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.pt"]
