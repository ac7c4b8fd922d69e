"""The pictures of sweep.html: a heat map for two grid keys, a line plot for one.

A grid key with more than one value is an axis of the pictures. The `augment` preset with
compositions of at most two augmentations gives two axes, so that `augment=pairs` draws
SimCLR's matrix (arXiv:2002.05709, figure 5): one row and one column per augmentation, the
diagonal each alone, below it each pair (the views apply a pair in one fixed order, so a
pair is one cell). With more than two axes, each heat map shows the best point over the
other axes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from itertools import combinations

from matplotlib import colormaps
from matplotlib.figure import Figure

from contrastkit.sweep.grid import Axis, Point
from contrastkit.sweep.presets import AUGMENTATIONS, PRESET_KEY
from contrastkit.viz.encode import png_data_uri

MAX_HEATMAPS = 6


@dataclass(frozen=True)
class View:
    """An axis of the pictures: its name, its labels in order, each point's label."""

    name: str
    labels: tuple[str, ...]
    of: Callable[[Point], str | None]


def _augment_views(axis: Axis, k: int) -> list[View]:
    """The pair matrix's two axes (rows: the later augmentation, columns: the earlier), or
    one axis of composition names when there is no pair or a composition has more than two."""
    sizes = {len(c) for c in axis.values}
    if max(sizes) > 2 or 2 not in sizes:
        return [View(axis.key, axis.labels, _label_of(axis, k))]
    used = {name for c in axis.values for name in c}
    names = tuple(name for name in AUGMENTATIONS if name in used)

    def rows(p: Point) -> str | None:
        c = axis.values[p.choice[k]]
        return c[-1] if c else None  # 'none' has no cell

    def cols(p: Point) -> str | None:
        c = axis.values[p.choice[k]]
        return c[0] if c else None

    return [View("augmentation", names, rows), View("with", names, cols)]


def _label_of(axis: Axis, k: int) -> Callable[[Point], str | None]:
    """A point's label on axis `k`."""
    return lambda p: axis.labels[p.choice[k]]


def views(axes: tuple[Axis, ...]) -> list[View]:
    """The axes of the pictures: every grid key with more than one value."""
    found: list[View] = []
    for k, axis in enumerate(axes):
        if len(axis.values) < 2:
            continue
        if axis.key == PRESET_KEY:
            found += _augment_views(axis, k)
        else:
            found.append(View(axis.key, axis.labels, _label_of(axis, k)))
    return found


MIN_SPAN = 0.02
"""The least range of scores the colours of a heat map stretch over (2 points of top-1):
cells closer than the noise of one run (about a point) do not look far apart."""


def colour_range(values: list[float]) -> tuple[float, float]:
    """The scores the darkest and the brightest colour stand for: the lowest and highest of
    `values`, widened about their middle to at least `MIN_SPAN`."""
    if not values:
        return 0.0, 1.0
    low, high = min(values), max(values)
    widen = max(0.0, MIN_SPAN - (high - low)) / 2
    return low - widen, high + widen


def _colour(t: float) -> tuple[str, str]:
    """Background (viridis at `t` in [0, 1]) and a readable text colour."""
    r, g, b, _ = colormaps["viridis"](t)
    text = "#000" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "#fff"
    return f"#{int(r * 255):02x}{int(g * 255):02x}{int(b * 255):02x}", text


Score = Callable[[Point], float | None]
State = Callable[[Point], str]


def heatmap_html(
    rows: View, cols: View, points: list[Point], score: Score, state: State, title: str
) -> str:
    """An HTML table: a cell per (row, column) label holding the best score of its points,
    as a percentage, coloured from the lowest (dark) to the highest (yellow) of the map
    (`colour_range`: at least `MIN_SPAN` apart).
    Each cell carries `data-row`, `data-col`, `data-value` (the fraction) and
    `data-point` (the point shown); a cell whose points have no score yet shows their state
    (pending, running, failed)."""
    best: dict[tuple[str, str], tuple[float, Point]] = {}
    waiting: dict[tuple[str, str], Point] = {}
    for point in points:
        value, r, c = score(point), rows.of(point), cols.of(point)
        if r is None or c is None:
            continue
        if value is None:
            waiting.setdefault((r, c), point)
        elif (r, c) not in best or value > best[(r, c)][0]:
            best[(r, c)] = (value, point)
    values = [v for v, _ in best.values()]
    low, high = colour_range(values)
    head = "".join(f'<th scope="col">{escape(c)}</th>' for c in cols.labels)
    body = []
    for r in rows.labels:
        cells = []
        for c in cols.labels:
            if (r, c) not in best:
                other = waiting.get((r, c))
                cells.append(
                    '<td class="empty"></td>'
                    if other is None
                    else f'<td class="empty" data-row="{escape(r)}" data-col="{escape(c)}" '
                    f'data-point="{other.id}">{escape(state(other))}</td>'
                )
                continue
            value, point = best[(r, c)]
            back, text = _colour((value - low) / (high - low))
            cells.append(
                f'<td data-row="{escape(r)}" data-col="{escape(c)}" data-value="{value!r}" '
                f'data-point="{point.id}" style="background:{back};color:{text}" '
                f'title="{point.id}">{100 * value:.1f}</td>'
            )
        body.append(f'<tr><th scope="row">{escape(r)}</th>{"".join(cells)}</tr>')
    return (
        f'<table class="heat" data-rows="{escape(rows.name)}" data-cols="{escape(cols.name)}">'
        f"<caption>{escape(title)}</caption>"
        f'<thead><tr><th class="corner">{escape(rows.name)} \\ {escape(cols.name)}</th>'
        f"{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def heatmaps_html(
    found: list[View], points: list[Point], score: Score, state: State, metric: str
) -> list[str]:
    """A heat map per pair of axes (at most `MAX_HEATMAPS`)."""
    rest = " (best over the other grid keys)" if len(found) > 2 else ""
    maps = []
    for a, b in list(combinations(found, 2))[:MAX_HEATMAPS]:
        rows, cols = (a, b) if a.name != "with" else (b, a)
        title = f"{metric} %, {rows.name} by {cols.name}{rest}"
        maps.append(heatmap_html(rows, cols, points, score, state, title))
    return maps


def joined(labels: tuple[str, ...]) -> bool:
    """Whether an axis' values are numbers (epochs, a temperature), whose points a line may
    join; a line between categories (config files, augmentations) would show a trend that
    is not there."""
    try:
        [float(label) for label in labels]
    except ValueError:
        return False
    return True


def line_plot_uri(
    view: View, points: list[Point], series: dict[str, Callable[[Point], float | None]]
) -> str:
    """A PNG (data URI) of each score against the axis' values, in grid order; lines join
    the points of a numeric axis only (`joined`)."""
    fig = Figure(figsize=(7.5, 3.8))
    ax = fig.add_subplot()
    position = {label: i for i, label in enumerate(view.labels)}
    style = "-" if joined(view.labels) else "none"
    for name, score in series.items():
        pairs = sorted(
            (position[label], 100 * value)
            for p in points
            if (label := view.of(p)) is not None and (value := score(p)) is not None
        )
        if pairs:
            xs, ys = [x for x, _ in pairs], [y for _, y in pairs]
            ax.plot(xs, ys, marker="o", linestyle=style, label=name)
    ax.set_xticks(range(len(view.labels)), list(view.labels))
    if max((len(label) for label in view.labels), default=0) > 8:
        ax.tick_params(axis="x", labelrotation=30)
    ax.set_xlabel(view.name)
    ax.set_ylabel("%")
    ax.grid(alpha=0.3)
    if ax.lines:
        ax.legend()
    return png_data_uri(fig)
