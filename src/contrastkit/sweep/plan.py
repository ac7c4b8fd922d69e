"""A sweep's plan: the configs, the grid, the chosen points, each point's config, and the
check that `--out` may hold it. Everything here is checked before any point runs.

A point's config is its base (the config file with `--set`), then its grid settings, then
what the sweep sets for the reduced protocol: `train.epochs` (`--epochs`), the data sample
(`--subset`: `data.source: arrays` and `data.path` to the sample written in `data/`) and,
unless the config or the grid sets it, `eval.baselines: false` (the baselines do not
depend on the point). The evaluation is otherwise the run's own: every point is scored by
the same kNN, linear and few-label protocol.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contrastkit.config import config_from_dict, raw_config, set_key
from contrastkit.errors import UserError
from contrastkit.rundir import LOCK
from contrastkit.sweep.grid import CONFIG_KEY, Axis, Point, expand, parse_grid, sample

SWEEP_FILE = "sweep.json"
PAGE = "sweep.html"
BEST_CONFIG = "best.yaml"
POINTS, CONFIGS, LOGS, DATA, BEST_RUN = "points", "configs", "logs", "data", "best"
FORMAT = 1
"""`contrastkit_sweep` in sweep.json: the version of its layout."""
DEFAULTS = "defaults"
"""The name of the base when no config file is given."""


@dataclass(frozen=True)
class Plan:
    """What a sweep runs: the bases (config file + `--set` -> raw mapping), the axes, the
    reduced protocol and the chosen points."""

    config: str | None
    sets: tuple[str, ...]
    axes: tuple[Axis, ...]
    bases: dict[str, dict[str, Any]]
    subset: int | None
    epochs: int | None
    seed: int
    total: int
    points: tuple[Point, ...]

    def identity(self) -> dict[str, Any]:
        """What makes two invocations the same sweep (`--sample`, `--parallel` and the
        metric may change between them), as sweep.json stores it."""
        plan = {
            "bases": self.bases,
            "grid": [[axis.key, axis.given] for axis in self.axes],
            "subset": self.subset,
            "epochs": self.epochs,
            "seed": self.seed,
        }
        return json.loads(json.dumps(plan))  # as read back: tuples become lists

    def base_name(self, point: Point) -> str:
        return point.config or self.config or DEFAULTS

    def best_raw(self, point: Point) -> dict[str, Any]:
        """The point's config at full size: its base and its grid settings only."""
        raw = copy.deepcopy(self.bases[self.base_name(point)])
        for key, value in point.overrides.items():
            set_key(raw, key, value, f"point {point.id}")
        return raw

    def point_raw(self, point: Point, data: dict[str, Any] | None) -> dict[str, Any]:
        """The config a point trains with: `best_raw`, then the reduced protocol (`data`:
        the subset's `data` settings, None for the whole data)."""
        raw = self.best_raw(point)
        if self.epochs is not None:
            set_key(raw, "train.epochs", self.epochs, "--epochs")
        for key, value in (data or {}).items():
            set_key(raw, f"data.{key}", value, "--subset")
        evaluation = raw.get("eval")
        if not isinstance(evaluation, dict) or "baselines" not in evaluation:
            set_key(raw, "eval.baselines", False, "the sweep")
        return raw


def _bases(config: str | None, sets: list[str], axes: list[Axis]) -> dict[str, dict[str, Any]]:
    files: list[str | None] = [config]
    for axis in axes:
        if axis.key == CONFIG_KEY:
            if config is not None:
                raise UserError("--config and --grid config=[...]: give one of them")
            files = list(axis.values)
    bases = {}
    for path in files:
        raw, where = raw_config(path, sets)
        config_from_dict(raw, where)  # an older layout is read into today's, noted once
        bases[path or DEFAULTS] = raw
    return bases


def _check_values(axes: list[Axis], base: dict[str, Any]) -> None:
    """Every value of every axis, set alone on the first base, is a valid config."""
    for axis in axes:
        for i, shown in enumerate(axis.labels):
            raw = copy.deepcopy(base)
            where = f"--grid {axis.key}={shown}"
            for key, value in axis.overrides(i).items():
                set_key(raw, key, value, where)
            config_from_dict(raw, where)


def make_plan(
    *,
    config: str | None,
    sets: list[str],
    grid: list[str],
    subset: int | None,
    epochs: int | None,
    sample_size: int | None,
    seed: int,
) -> Plan:
    """Parse and check everything: the grid, the configs, each value against the typed
    config, and each chosen point as a whole.

    Raises:
        UserError: one line naming the option, key or point and what was expected.
    """
    axes = parse_grid(grid)
    bases = _bases(config, sets, axes)
    _check_values(axes, next(iter(bases.values())))
    points = expand(axes)
    chosen = sample(points, sample_size, seed)
    plan = Plan(
        config, tuple(sets), tuple(axes), bases, subset, epochs, seed, len(points), tuple(chosen)
    )
    for point in chosen:
        shown = ", ".join(f"{k}={v}" for k, v in point.settings.items())
        config_from_dict(plan.point_raw(point, None), f"point {point.id} ({shown})")
    return plan


def previous_sweep(out: Path, plan: Plan) -> dict[str, Any] | None:
    """The sweep.json of the same sweep in `out` (to continue it), or None for a new or
    empty folder.

    Raises:
        UserError: `out` is a file, holds something that is not a sweep of contrastkit, or
            holds another sweep (naming what differs).
    """
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out}: exists and is not a folder")
    names = sorted(p.name for p in out.iterdir() if p.name != LOCK) if out.is_dir() else []
    if not names:
        return None
    path = out / SWEEP_FILE
    if not path.is_file():
        shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
        raise UserError(
            f"--out {out}: holds {shown} and no {SWEEP_FILE}: not a sweep of contrastkit; "
            "choose a new or empty folder"
        )
    try:
        previous = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        previous = None
    if not isinstance(previous, dict) or previous.get("contrastkit_sweep") != FORMAT:
        raise UserError(
            f"--out {out}: {path} is not a sweep file of contrastkit; choose another --out"
        )
    stored, now = previous.get("plan", {}), plan.identity()
    for field in now:
        if stored.get(field) != now[field]:
            raise UserError(
                f"--out {out}: holds another sweep (its {_field_name(field)} differs); "
                "choose another --out, or give its own options to continue it"
            )
    return previous


def _field_name(field: str) -> str:
    return {"bases": "config or --set", "grid": "--grid", "seed": "--seed"}.get(field, f"--{field}")
