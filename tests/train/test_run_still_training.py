"""`embed`, `index`, `search`, `export` and `eval` on a run whose training still runs (its lock is
held) say so and change nothing, instead of using a mid-training checkpoint."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from contrastkit.cli import main
from contrastkit.rundir import LOCK, lock_run_dir, training_pid


@pytest.mark.parametrize(
    "args",
    [
        ["embed", "--out", "e.npy"],
        ["index"],
        ["search", "--text", "a dog"],
        ["export", "--format", "onnx", "--out", "m.onnx"],
        ["eval"],
    ],
)
def test_commands_on_a_run_in_training_say_so(
    tmp_path: Path,
    args: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = tmp_path / "run"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["contrastkit", args[0], "--run", str(run), *args[1:]])
    with lock_run_dir(run):
        before = sorted(p.name for p in tmp_path.rglob("*"))
        with pytest.raises(SystemExit) as exit_:
            main()
        after = sorted(p.name for p in tmp_path.rglob("*"))
    assert exit_.value.code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"still training (pid {os.getpid()} holds {run / LOCK})" in err
    assert before == after


def test_training_pid_is_the_holder_and_none_once_released(tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert training_pid(run) is None  # no directory, no lock file
    with lock_run_dir(run):
        assert training_pid(run) == str(os.getpid())
    assert training_pid(run) is None
