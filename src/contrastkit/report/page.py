"""The HTML of `report.html`: one self-contained page (inline CSS, figures as data URIs).

Every number from `metrics.json` is written in a cell carrying `data-key` (its dotted
key) and `data-value` (the exact value), so the page can be checked against the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from contrastkit.eval.table import Row, comparison_rows, headers, legend
from contrastkit.report.figures import FigureEntry

CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1250px; color: #222;
       padding: 0 1em; }
h1 { margin-bottom: 0.2em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #ddd; }
.meta { color: #555; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.92em; }
th, td { padding: 0.3em 0.7em; border-bottom: 1px solid #e4e4e4; text-align: right; }
th { white-space: nowrap; }
#details td:nth-child(2), #details th:nth-child(2) { text-align: left; }
.side { display: flex; gap: 2em; align-items: flex-start; flex-wrap: wrap; }
th:first-child, td:first-child { text-align: left; }
tr.run td { font-weight: 600; background: #f3f7ff; }
figure { margin: 0.6em 0; } figure img { max-width: 100%; height: auto; }
figcaption, .caption { color: #555; font-size: 0.9em; }
.note { color: #8a5a00; background: #fff8e6; padding: 0.4em 0.7em; border-radius: 4px; }
table.block caption { caption-side: top; text-align: left; font-weight: 600; padding: 0.3em 0; }
table.examples td, table.examples th { text-align: left; vertical-align: top; }
table.examples ol { margin: 0; padding-left: 1.4em; }
.ok { color: #1a7f37; font-weight: 700; }
"""


def _cell(text: str, key: str | None = None, value: float | None = None) -> str:
    if key is None:
        return f"<td>{escape(text)}</td>"
    return f'<td data-key="{escape(key)}" data-value="{value!r}">{escape(text)}</td>'


def _rows_html(rows: list[Row]) -> str:
    out = []
    for row in rows:
        cells = "".join(_cell(c.text, c.key, c.value) for c in row.cells)
        css = ' class="run"' if row.is_run else ""
        out.append(f"<tr{css}><td>{escape(row.name)}</td>{cells}</tr>")
    return "\n".join(out)


def metric_table_html(name: str, metrics: dict[str, Any]) -> str:
    """The run against its baselines (same rows as `contrastkit eval`)."""
    runs = [(name, metrics)]
    head = "".join(f"<th>{escape(h)}</th>" for h in headers())
    return (
        f'<table id="metrics"><thead><tr>{head}</tr></thead><tbody>'
        f"{_rows_html(comparison_rows(runs))}</tbody></table>"
        f'<p class="caption">{escape(legend(runs))} The baselines use the same split and the same '
        "few-label draws.</p>"
    )


def _flat(block: Any, prefix: str) -> list[tuple[str, float]]:
    """Dotted keys and numeric leaves of a nested dict (lists are skipped)."""
    if isinstance(block, bool):
        return []
    if isinstance(block, int | float):
        return [(prefix, float(block))]
    if isinstance(block, dict):
        return [kv for key, value in block.items() for kv in _flat(value, f"{prefix}.{key}")]
    return []


def details_html(metrics: dict[str, Any]) -> str:
    """Every other scalar of the run: retrieval, clustering, anomaly, health, training."""
    ev = metrics.get("eval", {})
    groups = [
        ("retrieval (test split)", "eval.retrieval", ev.get("retrieval")),
        ("anomaly detection (each class normal in turn)", "eval.anomaly", ev.get("anomaly")),
        ("kNN classification", "eval.classification.knn", _macro(ev, "knn")),
        ("linear classification", "eval.classification.linear", _macro(ev, "linear")),
        ("clustering (k-means)", "eval", {k: ev[k] for k in ("nmi", "ari") if k in ev}),
        ("health", "health", metrics.get("health")),
        ("training", "", {k: v for k, v in metrics.items() if isinstance(v, int | float)}),
    ]
    rows = []
    for title, prefix, block in groups:
        for key, value in _flat(block or {}, prefix):
            key = key.lstrip(".")
            rows.append(
                f"<tr><td>{escape(title)}</td><td>{escape(key.rsplit('.', 1)[-1])}</td>"
                f"{_cell(f'{value:.4g}', key, value)}</tr>"
            )
    if not rows:
        return '<p class="note">metrics.json holds no further metrics.</p>'
    return (
        '<table id="details"><thead><tr><th>group</th><th>metric</th><th>value</th></tr>'
        f"</thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _macro(ev: dict[str, Any], which: str) -> dict[str, Any]:
    block = ev.get("classification", {}).get(which, {})
    return {k: v for k, v in block.items() if k.endswith("_macro") or k == "accuracy"}


def per_class_html(metrics: dict[str, Any], class_names: list[str]) -> str:
    """Per-class precision / recall / F1 / support of the linear probe."""
    block = metrics.get("eval", {}).get("classification", {}).get("linear")
    if not block:
        return ""
    per = block["per_class"]
    rows = []
    for i, support in enumerate(per["support"]):
        name = class_names[i] if i < len(class_names) else str(i)
        cells = "".join(
            _cell(
                f"{100 * per[m][i]:.1f}", f"eval.classification.linear.per_class.{m}.{i}", per[m][i]
            )
            for m in ("precision", "recall", "f1")
        )
        rows.append(f"<tr><td>{escape(name)}</td>{cells}<td>{support}</td></tr>")
    return (
        "<div><h3>Per-class scores (linear probe, test split)</h3>"
        '<table id="per-class"><thead><tr><th>class</th><th>precision %</th><th>recall %</th>'
        f"<th>F1 %</th><th>support</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def figure_html(entry: FigureEntry) -> str:
    if entry.uri is None:
        return (
            f'<section id="{entry.id}"><h3>{escape(entry.title)}</h3>'
            f'<p class="note">{escape(entry.note)}</p></section>'
        )
    return (
        f'<section id="{entry.id}"><h3>{escape(entry.title)}</h3><figure>'
        f'<img data-figure="{entry.id}" alt="{escape(entry.title)}" src="{entry.uri}">'
        f"<figcaption>{escape(entry.caption)}</figcaption></figure></section>"
    )


def section(heading: str, *parts: str) -> str:
    """One section of the page: its heading and its parts."""
    return f"<h2>{escape(heading)}</h2>\n" + "\n".join(parts)


def suite_section(name: str, metrics: dict[str, Any]) -> str:
    """The run against its baselines, with a note when the run has no label metrics."""
    has_labels = bool(metrics.get("eval", {}).get("knn_top1") is not None)
    label_note = (
        ""
        if has_labels
        else (
            '<p class="note">This run has no label metrics (unlabeled data): the tables show '
            "what was measured without labels.</p>"
        )
    )
    return section("Metrics against the baselines", label_note, metric_table_html(name, metrics))


def classification_section(
    confusion: FigureEntry, metrics: dict[str, Any], class_names: list[str]
) -> str:
    """The confusion matrix and the per-class scores of the linear probe."""
    side = f'<div class="side">{figure_html(confusion)}{per_class_html(metrics, class_names)}</div>'
    return section("Classification", side)


def render_page(*, name: str, metrics: dict[str, Any], sections: Sequence[str]) -> str:
    """The whole page: the run's name and settings, `sections` in order (only those that
    apply to the run), then every other scalar of `metrics.json`."""
    meta = ", ".join(
        f"{key}: {escape(str(metrics[key]))}"
        for key in ("method", "data", "epochs", "seed")
        if key in metrics
    )
    parts = [
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>contrastkit report: {escape(name)}</title><style>{CSS}</style></head><body>",
        f"<h1>contrastkit report</h1><p class='meta'>{escape(name)} &middot; {meta}</p>",
        *sections,
        section("All metrics", details_html(metrics)),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"
