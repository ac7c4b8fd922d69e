"""The runner: which command a point gets, how its end is read, P at a time, the time limit,
Ctrl-C stopping the running points, and SIGTERM read as Ctrl-C."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from contrastkit.sweep.grid import Point
from contrastkit.sweep.runner import (
    DONE,
    FAILED,
    INTERRUPTED,
    Ended,
    Job,
    _ended,
    last_line,
    point_env,
    run_jobs,
)
from contrastkit.sweep.session import sigterm_interrupts


def job(tmp_path: Path, index: int = 0) -> Job:
    point = Point(index, (index,), {"seed": index})
    return Job(
        point,
        tmp_path / point.id,
        tmp_path / f"{point.id}.yaml",
        tmp_path / "logs" / f"{point.id}.txt",
    )


def test_a_point_with_a_checkpoint_resumes(tmp_path: Path) -> None:
    j = job(tmp_path)
    assert j.command()[-2:] == ["--config", str(tmp_path / "p000.yaml")]
    assert j.command()[2:5] == ["contrastkit", "train", "--out"]
    j.run_dir.mkdir()
    (j.run_dir / "checkpoint.pt").write_bytes(b"")
    assert j.command()[-1] == "--resume" and "--config" not in j.command()


def test_how_a_point_ended(tmp_path: Path) -> None:
    j = job(tmp_path)
    j.log_file.parent.mkdir()
    j.log_file.write_text("--- start\nwarming up\nerror: loss was not finite in 11 steps\n\n")
    assert last_line(j.log_file) == "loss was not finite in 11 steps"
    assert _ended(j, 2, 1.0) == Ended(j, FAILED, 1.0, "loss was not finite in 11 steps")
    assert _ended(j, 0, 1.0).status == FAILED  # no metrics.json: not done
    assert _ended(j, 130, 1.0).status == INTERRUPTED
    assert _ended(j, -9, 1.0).error == "killed by signal 9"
    j.run_dir.mkdir()
    (j.run_dir / "metrics.json").write_text("{}")
    assert _ended(j, 0, 2.5) == Ended(j, DONE, 2.5)
    assert last_line(tmp_path / "missing.txt") == "no log"


@pytest.fixture
def sleepers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every job's process sleeps 0.3 s, then exits 0."""
    command = [sys.executable, "-c", "import time; time.sleep(0.3)"]
    monkeypatch.setattr(Job, "command", lambda self: command)


def test_p_points_run_at_once_and_none_start_after_the_time_limit(
    tmp_path: Path, sleepers: None
) -> None:
    events: list[tuple[str, str]] = []
    running, most = 0, 0

    def start(j: Job) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        events.append(("start", j.point.id))

    def end(e: Ended) -> None:
        nonlocal running
        running -= 1
        events.append((e.status, e.job.point.id))

    jobs = [job(tmp_path, i) for i in range(5)]
    left = run_jobs(
        jobs, parallel=2, env=point_env(1), time_limit_s=None, on_start=start, on_end=end
    )
    assert left == [] and most == 2
    assert [e for e in events if e[0] == "start"] == [("start", f"p{i:03d}") for i in range(5)]
    assert sorted(p for s, p in events if s != "start") == [f"p{i:03d}" for i in range(5)]
    assert all(j.log_file.read_text().startswith("--- ") for j in jobs)  # failed: no metrics
    left = run_jobs(jobs, parallel=2, env=point_env(1), time_limit_s=0, on_start=start, on_end=end)
    assert left == jobs


def test_ctrl_c_stops_the_running_points(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    command = [sys.executable, "-c", "import time; time.sleep(60)"]
    monkeypatch.setattr(Job, "command", lambda self: command)
    ended: list[Ended] = []

    def start(j: Job) -> None:
        if j.point.index == 1:
            raise KeyboardInterrupt

    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        run_jobs([job(tmp_path, i) for i in range(3)], parallel=2, env=point_env(1),
                 time_limit_s=None, on_start=start, on_end=ended.append)  # fmt: skip
    assert time.monotonic() - t0 < 30  # stopped, not waited for
    assert [(e.job.point.id, e.status) for e in ended] == [
        ("p000", INTERRUPTED),
        ("p001", INTERRUPTED),
    ]


def test_sigterm_interrupts_inside_the_block_only() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt), sigterm_interrupts():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises before this ends
    assert signal.getsignal(signal.SIGTERM) is before
