"""sweep.html: one self-contained page (inline CSS, the line plot as a data URI).

It holds what the sweep ran (config, `--set`, the reduced protocol), the best point and
the command that trains it at full size, the heat maps or the line plot (`charts.py`),
and a table of every chosen point. Every score is written in a cell carrying `data-key`
(the short name: knn, linear, fewshot) and `data-value` (the fraction in [0, 1]) on a row
carrying `data-point`, so the page can be checked against sweep.json. While points are
still to run, the page reloads itself every 30 s.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from pathlib import Path

from contrastkit.report.page import CSS
from contrastkit.sweep.charts import heatmaps_html, line_plot_uri, views
from contrastkit.sweep.grid import Point
from contrastkit.sweep.results import PENDING, RUNNING, SHOWN, Results, percent, status_text

SWEEP_CSS = """
table.heat td, table.heat th { text-align: center; min-width: 3.6em; border: 1px solid #fff; }
table.heat td.empty { background: #f4f4f4; color: #888; font-size: 0.8em; }
#points .setting, #points td[data-key="status"] { text-align: left; }
table.heat caption { caption-side: top; text-align: left; color: #555; padding: 0.3em 0; }
table.heat th.corner { color: #777; font-weight: normal; font-size: 0.85em; }
tr.best td { font-weight: 600; background: #f3f7ff; }
td.failed { color: #a00; text-align: left; }
code.command { background: #f4f4f4; padding: 0.2em 0.4em; border-radius: 3px; }
"""


def _scores(results: Results) -> dict[str, Callable[[Point], float | None]]:
    return {
        SHOWN[name]: (lambda p, n=name: getattr(results.points[p.id], n))  # type: ignore[misc]
        for name in SHOWN
    }


def _metric_name(results: Results) -> str:
    return SHOWN.get(results.metric, results.metric)


def _pictures(results: Results) -> str:
    plan = results.plan
    found = views(plan.axes)
    points = list(plan.points)
    if len(found) == 1:
        uri = line_plot_uri(found[0], points, _scores(results))
        return (
            f'<h2>Scores by {escape(found[0].name)}</h2><figure><img data-figure="line" '
            f'alt="scores by {escape(found[0].name)}" src="{uri}"><figcaption>kNN, linear and '
            "few-label top-1 of each finished point, in grid order.</figcaption></figure>"
        )
    if len(found) >= 2:
        maps = heatmaps_html(
            found,
            points,
            lambda p: results.points[p.id].value,
            lambda p: results.points[p.id].status,
            _metric_name(results),
        )
        note = ""
        if any(v.name == "with" for v in found):
            note = (
                '<p class="caption">augmentation by with: the diagonal is one augmentation '
                "alone, a cell below it the two together (docs/sweep.md says what each "
                "switches on).</p>"
            )
        return f"<h2>Heat map{'s' if len(maps) > 1 else ''}</h2>{note}{''.join(maps)}"
    return ""


def _table(results: Results) -> str:
    plan, best = results.plan, results.best()
    left = [*(a.key for a in plan.axes), "status"]  # text columns
    head = ["point", *(a.key for a in plan.axes), "kNN %", "linear %", "few-label %"]
    head += ["train s", "status"]
    rows = []
    for point in plan.points:
        r = results.points[point.id]
        cells = [f'<td><a href="points/{point.id}/">{point.id}</a></td>']
        cells += [f'<td class="setting">{escape(str(v))}</td>' for v in point.settings.values()]
        for name in SHOWN:
            value = getattr(r, name)
            shown = percent(value)
            if name == "fewshot" and r.fewshot_std is not None:
                shown += f" ± {100 * r.fewshot_std:.1f}"
            cells.append(f'<td data-key="{name}" data-value="{value!r}">{shown}</td>')
        train = "-" if r.train_time_s is None else f"{r.train_time_s:.0f}"
        cells.append(f'<td data-key="train_time_s" data-value="{r.train_time_s!r}">{train}</td>')
        css = ' class="failed"' if r.error else ""
        cells.append(f'<td data-key="status"{css}>{escape(status_text(r))}</td>')
        row_css = ' class="best"' if point == best else ""
        rows.append(f'<tr data-point="{point.id}"{row_css}>{"".join(cells)}</tr>')
    header = "".join(
        f'<th class="setting">{escape(h)}</th>' if h in left else f"<th>{escape(h)}</th>"
        for h in head
    )
    return (
        f'<h2>Every point</h2><table id="points"><thead><tr>{header}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _summary(results: Results, out: Path) -> str:
    plan = results.plan
    counts = {s: results.count(s) for s in ("done", "failed", RUNNING, PENDING, "interrupted")}
    state = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    ran = [f"config: {escape(', '.join(plan.bases))}"]
    ran += [f"--set {escape(s)}" for s in plan.sets]
    if plan.subset is not None:
        ran.append(f"a seeded sample of {plan.subset} training images (--subset)")
    if plan.epochs is not None:
        ran.append(f"{plan.epochs} epochs (--epochs)")
    parts = [
        f"<p class='meta'>{'; '.join(ran)}</p>",
        f"<p class='meta'>{len(plan.points)} of the grid's {plan.total} points: {state}</p>",
    ]
    best = results.best()
    if best is not None:
        shown = ", ".join(f"{k}={v}" for k, v in best.settings.items())
        value = percent(results.points[best.id].value)
        parts.append(
            f'<p id="best">Best by {escape(_metric_name(results))}: <b>{best.id}</b> '
            f"({escape(shown)}), {value}. Train it at full size (the config's data and "
            f'epochs): <code class="command">{escape(results.best_command(out))}</code></p>'
        )
    return "".join(parts)


def render_page(results: Results, out: Path) -> str:
    """The whole page."""
    waiting = results.count(PENDING) + results.count(RUNNING) > 0
    refresh = '<meta http-equiv="refresh" content="30">' if waiting else ""
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"{refresh}<title>contrastkit sweep: {escape(str(out))}</title>"
        f"<style>{CSS}{SWEEP_CSS}</style></head><body>"
        f"<h1>contrastkit sweep</h1><p class='meta'>{escape(str(out))}</p>"
        f"{_summary(results, out)}{_pictures(results)}{_table(results)}</body></html>"
    )
