"""Destinations that cannot be written: a read-only folder, a full disk, a folder that
cannot exist (`/proc/x`). Each command ends in one line naming the file and the reason
(exit 2), leaves no temporary behind, and every file that existed before is unchanged.
The disks are small tmpfs mounts (`disks.py`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tests.fuzz.conftest import copy_run
from tests.fuzz.corpus import CONFIGS, TINY
from tests.fuzz.disks import Disk, small_disk
from tests.fuzz.harness import expect_none, findings, run_cli
from tests.fuzz.snapshot import Snapshot

from contrastkit.train.checkpoint import load_checkpoint


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Disk]:
    with small_disk(tmp_path / "disk", 4096) as mounted:
        (mounted.folder / "mine.txt").write_text("a user's file on that disk\n")
        yield mounted


def _no_temporaries(folder: Path) -> list[str]:
    return [f"left: {p}" for p in folder.rglob(".*") if ".ck" in p.name]


def _case(args: list[str], cwd: Path, keep: list[Path], said: tuple[str, ...]) -> list[str]:
    before = Snapshot(*keep)
    outcome = run_cli(args, cwd=cwd)
    found = findings(outcome, before.lost(), said=said)
    return found + [line for root in keep for line in _no_temporaries(root)]


OUTPUTS = {
    "embed": lambda run, out: ["embed", "--run", str(run), "--out", str(out / "e.npy")],
    "anomaly": lambda run, out: [
        "anomaly",
        "--run",
        str(run),
        "--data",
        "train",
        "--out",
        str(out / "s.csv"),
    ],
    "export": lambda run, out: ["export", "--run", str(run), "--out", str(out / "exp")],
}


@pytest.mark.parametrize("command", sorted(OUTPUTS))
def test_read_only_output_folder(command: str, image_run: Path, disk: Disk) -> None:
    disk.read_only()
    args = OUTPUTS[command](image_run, disk.folder)
    expect_none(_case(args, disk.folder.parent, [image_run, disk.folder], ("read-only",)))


def test_read_only_train_out(disk: Disk) -> None:
    disk.read_only()
    args = ["train", "--out", str(disk.folder / "run"), *TINY]
    expect_none(_case(args, disk.folder.parent, [disk.folder], ("read-only",)))


@pytest.fixture
def run_on_disk(image_run: Path, disk: Disk) -> Path:
    return copy_run(image_run, disk.folder / "run")


def test_read_only_run_index(run_on_disk: Path, disk: Disk) -> None:
    disk.read_only()
    args = ["index", "--run", str(run_on_disk)]
    expect_none(_case(args, disk.folder.parent, [disk.folder], ("read-only",)))


def test_search_of_a_read_only_run_indexes_in_memory(
    run_on_disk: Path, disk: Disk, tmp_path: Path
) -> None:
    """No index and no way to save one: the run's data is indexed in memory, with a note."""
    query = tmp_path / "query.png"
    Image.fromarray(np.full((8, 8), 128, np.uint8)).save(query)
    disk.read_only()
    before = Snapshot(disk.folder)
    outcome = run_cli(["search", "--run", str(run_on_disk), "--query", str(query)], cwd=disk.folder)
    expect_none(findings(outcome, before.lost(), code=0, said=()))
    assert "in memory" in outcome.stderr + outcome.stdout


@pytest.mark.parametrize("command", sorted(OUTPUTS))
def test_full_disk_output(command: str, image_run: Path, disk: Disk) -> None:
    disk.fill(leave=4096)
    args = OUTPUTS[command](image_run, disk.folder)
    expect_none(_case(args, disk.folder.parent, [image_run, disk.folder], ("disk is full",)))


def test_full_disk_index(run_on_disk: Path, disk: Disk) -> None:
    disk.fill(leave=4096)
    args = ["index", "--run", str(run_on_disk)]
    expect_none(_case(args, disk.folder.parent, [disk.folder], ("disk is full",)))


def test_full_disk_train_keeps_the_last_good_checkpoint(tmp_path: Path) -> None:
    """Room for the first checkpoint, not for the second: training stops at the second
    with one line, and the first checkpoint stays, whole."""
    with small_disk(tmp_path / "disk", 600) as disk:
        args = ["train", "--out", str(disk.folder / "run"), *TINY, "--set", "train.epochs=3"]
        args += ["--config", str(CONFIGS / "digits_simclr.yaml")]
        outcome = run_cli(args, cwd=tmp_path)
        found = findings(outcome, said=("disk is full", "last good checkpoint is kept"))
        expect_none(found + _no_temporaries(disk.folder))
        assert load_checkpoint(disk.folder / "run" / "checkpoint.pt")["epoch"] >= 1


@pytest.mark.parametrize(
    "args",
    [
        ["train", "--out", "/proc/x", *TINY],
        ["embed", "--run", "RUN", "--out", "/proc/x/e.npy"],
        ["export", "--run", "RUN", "--out", "/proc/x"],
        ["anomaly", "--run", "RUN", "--data", "train", "--out", "/proc/x/s.csv"],
    ],
    ids=["train", "embed", "export", "anomaly"],
)
def test_out_that_cannot_exist(args: list[str], image_run: Path, tmp_path: Path) -> None:
    args = [str(image_run) if a == "RUN" else a for a in args]
    expect_none(_case(args, tmp_path, [image_run], ("/proc",)))
