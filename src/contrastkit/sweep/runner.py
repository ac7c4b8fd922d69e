"""Run a sweep's points as `contrastkit train` processes, one after another or P at a time.

Each point is its own process (`python -m contrastkit train`), writing a normal run
directory; its output goes to the point's log file. A point whose run directory holds a
checkpoint continues with `--resume` (bit for bit), any other starts afresh (a run killed
before its first checkpoint leaves nothing to continue). On Linux a point's process gets
SIGTERM when the sweep's process dies, however it dies, so no point keeps running (and
holding its run directory's lock) after the sweep is gone.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from contrastkit.rundir import CHECKPOINT, METRICS
from contrastkit.sweep.grid import Point

DONE, FAILED, INTERRUPTED = "done", "failed", "interrupted"
POLL_S = 0.1
"""How often the sweep looks at its running points."""
STOP_WAIT_S = 30.0
"""How long a stopped point may take to exit after SIGTERM before it is killed."""
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class Job:
    """One point to train: its run directory, the config it starts from, its log file."""

    point: Point
    run_dir: Path
    config_file: Path
    log_file: Path

    def command(self) -> list[str]:
        """`contrastkit train`, with `--resume` when the run directory has a checkpoint. Its
        output goes to the point's log, where progress is a plain line at least every 30 s
        (`train/progress.py`): `tail -f logs/pNNN.txt` shows how far a point is."""
        cmd = [sys.executable, "-m", "contrastkit", "train", "--out", str(self.run_dir)]
        if (self.run_dir / CHECKPOINT).is_file():
            return [*cmd, "--resume"]
        return [*cmd, "--config", str(self.config_file)]


@dataclass(frozen=True)
class Ended:
    """How a point's process ended: done, failed (with the error it printed) or
    interrupted (to run again), after `wall_s` seconds."""

    job: Job
    status: str
    wall_s: float
    error: str | None = None


def _die_with_parent() -> Callable[[], None] | None:
    """A `preexec_fn` asking Linux to send the child SIGTERM when this process dies."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def setup() -> None:
        prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM))
        if os.getppid() != parent:  # the sweep died before the request took hold
            os._exit(1)

    return setup


def last_line(log_file: Path) -> str:
    """The last non-empty line of a point's log, without the CLI's 'error: ' prefix."""
    try:
        with log_file.open("rb") as handle:
            handle.seek(max(0, log_file.stat().st_size - 4096))
            lines = handle.read().decode(errors="replace").splitlines()
    except OSError:
        return "no log"
    text = next((line.strip() for line in reversed(lines) if line.strip()), "no output")
    return text.removeprefix("error: ")


def _ended(job: Job, code: int, wall_s: float) -> Ended:
    if code == 0 and (job.run_dir / METRICS).is_file():
        return Ended(job, DONE, wall_s)
    if code == 130:  # Ctrl-C reached the point: run it again next time
        return Ended(job, INTERRUPTED, wall_s)
    reason = f"killed by signal {-code}" if code < 0 else last_line(job.log_file)
    return Ended(job, FAILED, wall_s, reason)


@dataclass
class _Running:
    process: subprocess.Popen[bytes]
    started: float
    log: IO[bytes]


def _launch(job: Job, env: dict[str, str]) -> _Running:
    job.log_file.parent.mkdir(parents=True, exist_ok=True)
    log = job.log_file.open("ab")
    cmd = job.command()
    log.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')}: {' '.join(cmd)}\n".encode())
    log.flush()
    process = subprocess.Popen(
        cmd, stdout=log, stderr=subprocess.STDOUT, env=env, preexec_fn=_die_with_parent()
    )
    return _Running(process, time.monotonic(), log)


def _stop(running: dict[str, tuple[Job, _Running]], on_end: Callable[[Ended], None]) -> None:
    """SIGTERM every running point, wait for them (then kill), report them interrupted."""
    for _, run in running.values():
        if run.process.poll() is None:
            run.process.terminate()
    deadline = time.monotonic() + STOP_WAIT_S
    for job, run in running.values():
        try:
            run.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            run.process.kill()
            run.process.wait()
        run.log.close()
        on_end(Ended(job, INTERRUPTED, time.monotonic() - run.started))


def point_env(threads: int) -> dict[str, str]:
    """The environment of a point's process: this one's, with `OMP_NUM_THREADS=threads`."""
    return {**os.environ, "OMP_NUM_THREADS": str(threads)}


def run_jobs(
    jobs: list[Job],
    *,
    parallel: int,
    env: dict[str, str],
    time_limit_s: float | None,
    on_start: Callable[[Job], None],
    on_end: Callable[[Ended], None],
) -> list[Job]:
    """Run the jobs, at most `parallel` at a time, in order; start none after
    `time_limit_s` seconds. Returns the jobs not started.

    Ctrl-C or SIGTERM (raised here as KeyboardInterrupt) stops the running points (each
    reported interrupted) and is raised again.
    """
    queue = list(jobs)
    running: dict[str, tuple[Job, _Running]] = {}  # by point id
    start = time.monotonic()
    try:
        while queue or running:
            in_time = time_limit_s is None or time.monotonic() - start < time_limit_s
            while queue and in_time and len(running) < parallel:
                job = queue.pop(0)
                running[job.point.id] = (job, _launch(job, env))
                on_start(job)
            if not running:
                break
            for job, run in list(running.values()):
                code = run.process.poll()
                if code is not None:
                    run.log.close()
                    del running[job.point.id]
                    on_end(_ended(job, code, time.monotonic() - run.started))
            time.sleep(POLL_S)
    except BaseException:
        _stop(running, on_end)
        raise
    return queue
