"""Ctrl-C and kill -9 during `contrastkit train` (subprocesses): Ctrl-C says how to continue
(or, before the first checkpoint, that there is nothing to resume yet) and exits 130; a run
killed at a random moment after its first checkpoint and resumed ends with the same weights,
bit for bit, as a run never interrupted."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from contrastkit.rundir import CHECKPOINT
from contrastkit.train.checkpoint import load_checkpoint

ROOT = Path(__file__).resolve().parents[2]
SMALL = [
    *("--set", "model.width=4", "--set", "model.feature_dim=16", "--set", "train.batch_size=64"),
    *("--set", "eval.baselines=false", "--set", "eval.fewshot_draws=1", "--set", "health.every=0"),
    *("--set", "data.test_fraction=0.75"),
    "--no-progress",
]


def _env() -> dict[str, str]:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    return env


def _train(out: Path, method: str, epochs: int, *extra: str) -> subprocess.Popen[str]:
    args = ["train", "--out", str(out)]
    if "--resume" not in extra:
        args += ["--config", str(ROOT / f"configs/digits_{method}.yaml"), *SMALL]
        args += ["--set", f"train.epochs={epochs}"]
    return subprocess.Popen(
        [sys.executable, "-m", "contrastkit", *args, *extra],
        cwd=out.parent,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # pytest-xdist workers ignore SIGINT and a child inherits that: restore the default
        # so that the child's Python turns Ctrl-C into KeyboardInterrupt again
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _wait_for_checkpoint(proc: subprocess.Popen[str], out: Path, timeout: float = 120) -> None:
    start = time.monotonic()
    while not (out / CHECKPOINT).is_file():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() - start < timeout, "no checkpoint"
        time.sleep(0.05)


def _weights(out: Path) -> dict[str, torch.Tensor]:
    return load_checkpoint(out / CHECKPOINT)["model"]


@pytest.mark.slow
def test_ctrl_c_says_how_to_resume_and_resume_finishes(tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = _train(out, "simclr", 12, "--set", "train.warmup_epochs=1")
    _wait_for_checkpoint(proc, out)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    [line] = err.strip().splitlines()
    assert re.fullmatch(
        rf"interrupted at step \d+; continue from step \d+ with "
        rf"`contrastkit train --resume --out {re.escape(str(out))}`",
        line,
    ), line
    assert "Traceback" not in err
    resumed = _train(out, "simclr", 12, "--resume")
    _, err = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, err
    assert load_checkpoint(out / CHECKPOINT)["epoch"] == 12


@pytest.mark.slow
@pytest.mark.parametrize("method", ["simclr", "byol", "moco_v2"])
def test_kill_at_a_random_moment_then_resume_is_bit_exact(tmp_path: Path, method: str) -> None:
    epochs = 30  # long enough that the kill lands before the run ends (6 no longer did)
    whole = tmp_path / "whole"
    proc = _train(whole, method, epochs)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err

    killed = tmp_path / "killed"
    proc = _train(killed, method, epochs)
    _wait_for_checkpoint(proc, killed)
    time.sleep(random.Random(method).uniform(0.0, 1.5))  # a reproducible "random" moment
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "the run ended before the kill"
    resumed = _train(killed, method, epochs, "--resume")
    _, err = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, err

    a, b = _weights(whole), _weights(killed)
    assert a.keys() == b.keys()
    different = [k for k in a if not torch.equal(a[k], b[k])]
    assert different == []


@pytest.mark.slow
def test_ctrl_c_before_the_first_checkpoint_says_there_is_nothing_to_resume(
    tmp_path: Path,
) -> None:
    out = tmp_path / "run"
    # batches of 4 and a log line every step: the first epoch is hundreds of steps
    proc = _train(out, "simclr", 3, "--set", "train.batch_size=4", "--set", "train.log_every=1")
    start = time.monotonic()
    while not (out / "log.jsonl").is_file():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() - start < 120, "training did not start"
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert not (out / CHECKPOINT).exists()
    [line] = err.strip().splitlines()
    assert "before the first checkpoint" in line and "nothing to resume yet" in line, line
    assert "--resume" not in line
