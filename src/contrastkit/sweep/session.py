"""`contrastkit sweep`: check the plan, then train every chosen point that is not done yet.

The sweep folder (`--out`):

```
sweep.json   the plan, every point's settings, status and scores, the best point
sweep.html   the table, the heat maps or line plot
best.yaml    the best point's config at full size (its base and grid settings)
configs/     pNNN.yaml: the config each point trains with
points/      pNNN/: each point's run directory (config.yaml, metrics.json, checkpoint.pt, ...)
logs/        pNNN.txt: each point's `contrastkit train` output
data/        the --subset sample
```

Running the same command again continues the sweep: finished points are kept, a point
with a checkpoint resumes, any other starts again; failed points are kept as failed
unless `retry_failed`. sweep.json and sweep.html are rewritten (atomically) whenever a
point starts or ends.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from contrastkit.atomic import write_json_atomic, write_text_atomic
from contrastkit.config import config_from_dict
from contrastkit.errors import UserError
from contrastkit.rundir import lock_run_dir
from contrastkit.sweep.grid import Point
from contrastkit.sweep.page import render_page
from contrastkit.sweep.plan import (
    BEST_CONFIG,
    CONFIGS,
    DATA,
    LOGS,
    PAGE,
    POINTS,
    SWEEP_FILE,
    Plan,
    previous_sweep,
)
from contrastkit.sweep.results import PENDING, RUNNING, SHOWN, Results, percent
from contrastkit.sweep.runner import DONE, FAILED, Ended, Job, point_env, run_jobs

Log = Callable[[str], None]


@dataclass(frozen=True)
class Options:
    """How to run a sweep (none of these changes which sweep it is)."""

    parallel: int = 1
    metric: str = "knn"
    time_limit_s: float | None = None
    retry_failed: bool = False

    def __post_init__(self) -> None:
        if self.metric not in ("knn", "linear", "fewshot") and "." not in self.metric:
            raise UserError(
                f"--metric {self.metric!r}: expected knn, linear, fewshot or a dotted key"
            )


def _write_subsets(plan: Plan, out: Path, data: dict[str, dict[str, Any]], log: Log) -> None:
    """The `--subset` sample of each base's data, written once (kept in sweep.json)."""
    from contrastkit.run import resolve  # torch: only when a sample is needed

    if plan.subset is None:
        return
    for name, raw in plan.bases.items():
        known = data.get(name)
        if known is not None and Path(known["path"]).is_file():
            continue
        cfg = config_from_dict(json.loads(json.dumps(raw)), name)
        data[name] = resolve(cfg).write_subset(plan.subset, plan.seed, out / DATA)
        log(f"wrote a sample of {plan.subset} training images of {name}: {data[name]['path']}")


def _job(plan: Plan, point: Point, out: Path, data: dict[str, dict[str, Any]]) -> Job:
    config_file = out / CONFIGS / f"{point.id}.yaml"
    raw = plan.point_raw(point, data.get(plan.base_name(point)))
    write_text_atomic(config_file, yaml.safe_dump(raw, sort_keys=False))
    return Job(point, out / POINTS / point.id, config_file, out / LOGS / f"{point.id}.txt")


def _threads(options: Options) -> int:
    """CPU threads per point: `OMP_NUM_THREADS` when set, else the usable cores shared
    among the points that run at once."""
    given = os.environ.get("OMP_NUM_THREADS", "")
    if given.isdigit() and int(given) > 0:
        return int(given)
    return max(1, len(os.sched_getaffinity(0)) // options.parallel)


class _Progress:
    """The sweep's files and its progress lines, updated as points start and end."""

    def __init__(self, results: Results, out: Path, log: Log, parallel: int) -> None:
        self.results, self.out, self.log, self.parallel = results, out, log, parallel
        self.walls: list[float] = []
        self.position = {p.id: i + 1 for i, p in enumerate(results.plan.points)}

    def write(self) -> None:
        write_json_atomic(self.out / SWEEP_FILE, self.results.to_json(self.out))
        write_text_atomic(self.out / PAGE, render_page(self.results, self.out))
        best = self.results.best()
        if best is not None:
            raw = self.results.plan.best_raw(best)
            write_text_atomic(self.out / BEST_CONFIG, yaml.safe_dump(raw, sort_keys=False))

    def _tag(self, point: Point) -> str:
        width = len(str(len(self.position)))
        return f"[{self.position[point.id]:>{width}}/{len(self.position)}] {point.id}"

    def on_start(self, job: Job) -> None:
        self.results.points[job.point.id].status = RUNNING
        shown = " ".join(f"{k}={v}" for k, v in job.point.settings.items())
        verb = "resume" if "--resume" in job.command() else "start"
        self.log(f"{self._tag(job.point)} {verb} {shown}")
        self.write()

    def on_end(self, ended: Ended) -> None:
        point, result = ended.job.point, self.results.points[ended.job.point.id]
        result.wall_s, result.status, result.error = ended.wall_s, ended.status, ended.error
        if ended.status == DONE:
            result.read(ended.job.run_dir, self.results.metric)
            self.walls.append(ended.wall_s)
            knn, linear, few = (percent(v) for v in (result.knn, result.linear, result.fewshot))
            line = f"done  kNN {knn}  linear {linear}  few-label {few}"
            line += f"  train {result.train_time_s or 0:.0f} s, {ended.wall_s:.0f} s in all"
        elif ended.status == FAILED:
            line = f"failed: {ended.error} (log: {ended.job.log_file})"
        else:
            line = "interrupted (it continues on the next run)"
        self.log(f"{self._tag(point)} {line}{self._eta()}")
        self.write()

    def _eta(self) -> str:
        left = self.results.count(PENDING) + self.results.count(RUNNING)
        if not self.walls or not left:
            return ""
        minutes = sum(self.walls) / len(self.walls) * left / self.parallel / 60
        return f"  ({self.results.count(DONE)} done, {left} to go, ~{minutes:.0f} min left)"


@contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """SIGTERM raises KeyboardInterrupt inside the block, as Ctrl-C does (a job scheduler's
    stop then stops the running points and keeps the sweep resumable)."""

    def terminated(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_sweep(plan: Plan, out: Path, options: Options, log: Log) -> Results:
    """Run (or continue) the sweep in `out`; returns every chosen point's result.

    Raises:
        UserError: `out` holds something else, or another sweep writes to it.
        KeyboardInterrupt: Ctrl-C or SIGTERM; the running points are stopped and marked
            to run again, sweep.json says so.
    """
    previous = previous_sweep(out, plan)
    with lock_run_dir(out):
        results = Results.start(plan, options.metric, previous, out)
        _write_subsets(plan, out, results.data, log)
        todo = [
            p
            for p in plan.points
            if results.points[p.id].status == PENDING
            or (options.retry_failed and results.points[p.id].status == FAILED)
        ]
        jobs = [_job(plan, point, out, results.data) for point in todo]
        done, failed = results.count(DONE), results.count(FAILED)
        for point in todo:
            results.points[point.id].status = PENDING  # a failed point run again
        log(
            f"sweep: {len(plan.points)} of {plan.total} points; {done} done, {failed} failed, "
            f"{len(jobs)} to run, {options.parallel} at a time, {_threads(options)} CPU "
            f"thread(s) each; {out / PAGE}"
        )
        progress = _Progress(results, out, log, min(options.parallel, max(1, len(jobs))))
        progress.write()
        left = run_jobs(
            jobs,
            parallel=options.parallel,
            env=point_env(_threads(options)),
            time_limit_s=options.time_limit_s,
            on_start=progress.on_start,
            on_end=progress.on_end,
        )
        if left:
            log(f"time limit: {len(left)} point(s) not started; run the same command to go on")
        progress.write()
    return results


def best_line(results: Results, out: Path) -> str | None:
    """'best by kNN: p007 (...) 85.1' and the command that trains it at full size."""
    best = results.best()
    if best is None:
        return None
    shown = ", ".join(f"{k}={v}" for k, v in best.settings.items())
    name = SHOWN.get(results.metric, results.metric)
    return (
        f"best by {name}: {best.id} ({shown}) {percent(results.points[best.id].value)}; "
        f"at full size: {results.best_command(out)}"
    )
