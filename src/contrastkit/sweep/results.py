"""A sweep's results: each point's status and scores, the best point, sweep.json.

The scores are read from each point's own `metrics.json` (docs/metrics.md): kNN
(`eval.knn_top1`), linear (`eval.linear_top1`) and few-label
(`eval.fewshot.linear_top1_mean`, with its std over draws), fractions in [0, 1], and the
training time. The best point maximises the chosen metric: one of those three names or any
dotted key of `metrics.json` (higher is better).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich import box
from rich.table import Table

from contrastkit.rundir import METRICS
from contrastkit.sweep.grid import Point
from contrastkit.sweep.plan import BEST_CONFIG, BEST_RUN, FORMAT, POINTS, Plan
from contrastkit.sweep.runner import DONE, FAILED

PENDING, RUNNING = "pending", "running"
SCORES = {
    "knn": "eval.knn_top1",
    "linear": "eval.linear_top1",
    "fewshot": "eval.fewshot.linear_top1_mean",
}
"""The metrics every point shows, by short name -> dotted key of metrics.json."""
SHOWN = {"knn": "kNN", "linear": "linear", "fewshot": "few-label"}
FEWSHOT_STD = "eval.fewshot.linear_top1_std"


def lookup(metrics: dict[str, Any], dotted: str) -> float | None:
    """The number at a dotted key of metrics.json, or None when absent or not a number."""
    node: Any = metrics
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return float(node) if isinstance(node, int | float) and not isinstance(node, bool) else None


@dataclass
class PointResult:
    """One point's state and scores (None until measured)."""

    status: str = PENDING
    knn: float | None = None
    linear: float | None = None
    fewshot: float | None = None
    fewshot_std: float | None = None
    train_time_s: float | None = None
    value: float | None = None
    """The chosen metric (`--metric`)."""
    wall_s: float | None = None
    """Seconds the point's process ran in its last invocation (start-up and evaluation
    included)."""
    error: str | None = None

    def read(self, run_dir: Path, metric: str) -> None:
        """Take the scores of a finished run directory."""
        metrics = json.loads((run_dir / METRICS).read_text())
        for name, key in SCORES.items():
            setattr(self, name, lookup(metrics, key))
        self.fewshot_std = lookup(metrics, FEWSHOT_STD)
        self.train_time_s = lookup(metrics, "train_time_s")
        self.value = lookup(metrics, SCORES.get(metric, metric))
        self.status, self.error = DONE, None


@dataclass
class Results:
    """Every chosen point's result, and what sweep.json says about the sweep."""

    plan: Plan
    metric: str
    points: dict[str, PointResult]
    data: dict[str, dict[str, Any]]
    """The base -> the `data` settings of its `--subset` sample."""

    @classmethod
    def start(cls, plan: Plan, metric: str, previous: dict[str, Any] | None, out: Path) -> Results:
        """The results so far: finished run directories are read again; failures and wall
        times are kept from the previous sweep.json."""
        before = {p["id"]: p for p in (previous or {}).get("points", []) if isinstance(p, dict)}
        points = {}
        for point in plan.points:
            result = PointResult()
            old = before.get(point.id, {})
            result.wall_s = old.get("wall_s")
            if (out / POINTS / point.id / METRICS).is_file():
                result.read(out / POINTS / point.id, metric)
            elif old.get("status") == FAILED:
                result.status, result.error = FAILED, old.get("error")
            points[point.id] = result
        return cls(plan, metric, points, dict((previous or {}).get("data", {})))

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.points.values())

    def best(self) -> Point | None:
        """The finished point with the highest metric (the first of equals)."""
        scored = [p for p in self.plan.points if self.points[p.id].value is not None]
        return max(scored, key=lambda p: self.points[p.id].value or 0.0, default=None)

    def best_command(self, out: Path) -> str:
        return f"contrastkit train --config {out / BEST_CONFIG} --out {out / BEST_RUN}"

    def to_json(self, out: Path) -> dict[str, Any]:
        """sweep.json: the plan, every chosen point and the best one (docs/sweep.md)."""
        plan, best = self.plan, self.best()
        records = [
            {
                "id": p.id,
                "index": p.index,
                "settings": p.settings,
                "config": plan.base_name(p),
                "overrides": p.overrides,
                "run": f"{POINTS}/{p.id}",
                **asdict(self.points[p.id]),
            }
            for p in plan.points
        ]
        summary = None
        if best is not None:
            summary = {
                "id": best.id,
                "settings": best.settings,
                "value": self.points[best.id].value,
                "config": BEST_CONFIG,
                "command": self.best_command(out),
            }
        return {
            "contrastkit_sweep": FORMAT,
            "plan": plan.identity(),
            "sets": list(plan.sets),
            "points_in_grid": plan.total,
            "metric": self.metric,
            "data": self.data,
            "points": records,
            "best": summary,
        }


def percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def status_text(result: PointResult) -> str:
    if result.status == FAILED:
        return f"failed: {result.error}"
    return result.status


def terminal_table(results: Results, title: str) -> Table:
    """Every chosen point with its settings and scores; the best one in bold."""
    plan, best = results.plan, results.best()
    table = Table(title=title, box=box.SIMPLE_HEAD)
    for column in ("point", *(a.key for a in plan.axes), "kNN", "linear", "few-label"):
        table.add_column(column, justify="left" if column == "point" else "right")
    table.add_column("train s", justify="right")
    table.add_column("status")
    for point in plan.points:
        r = results.points[point.id]
        few = percent(r.fewshot) + ("" if r.fewshot_std is None else f"±{100 * r.fewshot_std:.1f}")
        train = "-" if r.train_time_s is None else f"{r.train_time_s:.0f}"
        cells = [point.id, *(str(v) for v in point.settings.values())]
        cells += [percent(r.knn), percent(r.linear), few, train, status_text(r)]
        table.add_row(*cells, style="bold" if point == best else None)
    return table
