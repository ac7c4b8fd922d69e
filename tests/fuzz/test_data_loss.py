"""Data loss: `export --overwrite` replaces only an earlier export; `train --out` refuses a
folder of someone else's files; hidden temporaries of a killed process are cleaned up on
the next run, those of a live one never. After every case each file that existed before
is byte-identical."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.fuzz.conftest import copy_run
from tests.fuzz.corpus import TINY
from tests.fuzz.harness import Outcome, expect_none, findings, run_cli
from tests.fuzz.snapshot import Snapshot


def _refused(outcome: Outcome, snapshot: Snapshot, *words: str) -> None:
    expect_none(findings(outcome, snapshot.lost(), said=words))


@pytest.fixture
def two_runs(image_run: Path, tmp_path: Path) -> Path:
    """runs/a and runs/b (finished runs) and a user's notes beside them, under tmp_path."""
    copy_run(image_run, tmp_path / "runs" / "a")
    copy_run(image_run, tmp_path / "runs" / "b")
    (tmp_path / "runs" / "notes.txt").write_text("my notes\n")
    return tmp_path / "runs"


@pytest.mark.parametrize(
    ("out", "cwd", "said"),
    [
        ("runs/a", ".", "is the run"),  # the run itself
        ("runs", ".", "holds it"),  # the folder holding the run and its siblings
        (".", "runs", "current folder"),  # `.` where the runs are
        (".", "runs/a", "current folder"),  # `.` inside the run
        ("..", "runs/a", "current folder"),  # an ancestor of the run and of `.`
        ("runs/b", ".", "is a run directory"),  # another run
        ("", ".", "current folder"),  # an empty --out
    ],
    ids=["run", "parent", "dot-beside", "dot-inside", "ancestor", "other-run", "empty"],
)
def test_export_overwrite_never_replaces_a_run(
    two_runs: Path, out: str, cwd: str, said: str
) -> None:
    root = two_runs.parent
    before = Snapshot(root)
    run = os.path.relpath(two_runs / "a", root / cwd)
    outcome = run_cli(["export", "--run", run, "--out", out, "--overwrite"], cwd=root / cwd)
    _refused(outcome, before, said)
    assert sorted(p.name for p in root.iterdir()) == ["runs"]


def test_export_overwrite_refuses_a_folder_it_did_not_write(two_runs: Path) -> None:
    mine = two_runs.parent / "mine"
    mine.mkdir()
    (mine / "model.onnx").write_text("my own model\n")
    before = Snapshot(two_runs.parent)
    outcome = run_cli(
        ["export", "--run", str(two_runs / "a"), "--out", str(mine), "--overwrite"],
        cwd=two_runs,
    )
    _refused(outcome, before, "did not write")


def test_export_overwrite_refuses_an_export_holding_a_run(two_runs: Path) -> None:
    out = two_runs.parent / "exp"
    assert (
        run_cli(["export", "--run", str(two_runs / "a"), "--out", str(out)], cwd=out.parent).code
        == 0
    )
    copy_run(two_runs / "b", out / "moved-here")
    before = Snapshot(two_runs.parent)
    outcome = run_cli(
        ["export", "--run", str(two_runs / "a"), "--out", str(out), "--overwrite"], cwd=out.parent
    )
    _refused(outcome, before, "holds a run")


def test_export_overwrite_replaces_an_earlier_export(two_runs: Path) -> None:
    """The one folder --overwrite may replace; nothing hidden is left beside it."""
    run = two_runs / "a"
    assert run_cli(["export", "--run", str(run)], cwd=two_runs).code == 0
    (run / "export" / "model.onnx").write_bytes(b"stale")
    outcome = run_cli(["export", "--run", str(run), "--overwrite"], cwd=two_runs)
    assert outcome.code == 0, outcome.stderr
    assert (run / "export" / "model.onnx").read_bytes() != b"stale"
    assert [p.name for p in run.iterdir() if p.name.startswith(".") and p.name != ".lock"] == []


@pytest.mark.parametrize("overwrite", [False, True], ids=["plain", "overwrite"])
def test_train_refuses_a_folder_of_user_files(tmp_path: Path, overwrite: bool) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "config.yaml").write_text("my: config\n")
    (out / "log.jsonl").write_text('{"my": "log"}\n')
    before = Snapshot(tmp_path)
    args = ["train", "--out", str(out), *TINY] + (["--overwrite"] if overwrite else [])
    _refused(run_cli(args, cwd=tmp_path), before, "not a contrastkit run")
    assert sorted(p.name for p in out.iterdir()) == ["config.yaml", "log.jsonl"]


def test_train_refuses_an_empty_out(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("x\n")
    before = Snapshot(tmp_path)
    _refused(run_cli(["train", "--out", "", *TINY], cwd=tmp_path), before, "--out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.txt"]


# --- leftovers of a killed process ---------------------------------------------------------


@pytest.fixture
def pids() -> Iterator[tuple[int, int]]:
    """(a pid that is gone, the pid of a process that runs until the test ends)."""
    gone = subprocess.Popen(["true"])
    gone.wait()
    alive = subprocess.Popen(["sleep", "120"])
    yield gone.pid, alive.pid
    alive.kill()
    alive.wait()


def _temporary(folder: Path, name: str, pid: int, kind: str = "tmp", tag: str = "0123abcd") -> Path:
    path = folder / f".{name}.ck{pid}-{tag}.{kind}"
    path.mkdir()
    (path / "partial.onnx").write_bytes(b"half")
    return path


def test_stale_export_temporaries_are_cleaned_live_ones_kept(
    image_copy: Path, pids: tuple[int, int]
) -> None:
    gone, alive = pids
    dead_tmp = _temporary(image_copy, "export", gone)
    live_tmp = _temporary(image_copy, "export", alive, tag="4567cdef")
    before = Snapshot(image_copy)
    del before.files[dead_tmp / "partial.onnx"]
    assert run_cli(["export", "--run", str(image_copy)], cwd=image_copy).code == 0
    assert not dead_tmp.exists()
    assert before.lost() == [] and live_tmp.is_dir()


def test_a_stale_old_export_is_put_back(image_copy: Path, pids: tuple[int, int]) -> None:
    """Killed between moving the old export aside and renaming the new one in: the old
    export comes back, and a plain export then refuses to replace it."""
    gone, _ = pids
    old = _temporary(image_copy, "export", gone, kind="old")
    (old / "export.json").write_text('{"format": 1, "run": "x", "towers": []}\n')
    outcome = run_cli(["export", "--run", str(image_copy)], cwd=image_copy)
    assert outcome.clean_error and "pass --overwrite" in outcome.stderr, outcome.stderr
    assert (image_copy / "export" / "partial.onnx").read_bytes() == b"half"


def test_stale_checkpoint_and_index_temporaries_are_cleaned(
    image_copy: Path, pids: tuple[int, int]
) -> None:
    gone, alive = pids
    (image_copy / f".checkpoint.pt.ck{gone}-0123abcd.tmp").write_bytes(b"half a checkpoint")
    (image_copy / f".checkpoint.pt.ck{alive}-0123abcd.tmp").write_bytes(b"being written")
    indexes = image_copy / "indexes"
    indexes.mkdir()
    dead_index = _temporary(indexes, "default", gone)
    outcome = run_cli(["index", "--run", str(image_copy)], cwd=image_copy)
    assert outcome.code == 0, outcome.stderr
    outcome = run_cli(["eval", "--run", str(image_copy)], cwd=image_copy)
    assert outcome.code == 0, outcome.stderr
    hidden = sorted(p.name for p in image_copy.iterdir() if p.name.startswith(".ch"))
    assert hidden == [f".checkpoint.pt.ck{alive}-0123abcd.tmp"]
    assert not dead_index.exists()


@pytest.mark.slow
def test_kill_9_during_export_leaves_nothing_behind(image_copy: Path) -> None:
    """A real `kill -9` while the export folder is being written, then an export again."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "contrastkit", "export", "--run", str(image_copy)]
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not list(image_copy.glob(".export.*.tmp")) and child.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    before = Snapshot(image_copy)
    left = [p for p in image_copy.iterdir() if p.name.startswith(".export")]
    for path in left:
        before.files = {k: v for k, v in before.files.items() if path not in k.parents}
    outcome = run_cli(["export", "--run", str(image_copy), "--overwrite"], cwd=image_copy)
    assert outcome.code == 0, outcome.stderr
    assert [p.name for p in image_copy.iterdir() if p.name.startswith(".export")] == []
    assert before.lost() == []
