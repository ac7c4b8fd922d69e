"""Rich tables and text examples as HTML for `report.html`: the tables `train` and `eval`
print (label budgets, a text task, cross-modal retrieval) as real tables, and the report's
examples of queries with their nearest items as text."""

from __future__ import annotations

from html import escape

from rich.table import Table
from rich.text import Text

from contrastkit.modalities.base import Examples


def _cell(renderable: object, tag: str, justify: str) -> str:
    text = Text.from_markup(renderable) if isinstance(renderable, str) else Text(str(renderable))
    shown = escape(text.plain)
    if any("bold" in str(span.style) for span in text.spans):
        shown = f"<strong>{shown}</strong>"
    align = ' style="text-align: left"' if justify == "left" else ""
    return f"<{tag}{align}>{shown}</{tag}>"


def rich_table_html(table: Table) -> str:
    """`table` as an HTML table: its title as the caption above, its header row, its rows
    (a bold row marked as the run's), bold cells as <strong>, its caption as a note below."""
    justify = [column.justify for column in table.columns]
    head = "".join(_cell(column.header, "th", justify[i]) for i, column in enumerate(table.columns))
    cells = [list(column.cells) for column in table.columns]
    rows = []
    for r, row in enumerate(table.rows):
        css = ' class="run"' if row.style and "bold" in str(row.style) else ""
        tds = "".join(_cell(cells[c][r], "td", justify[c]) for c in range(len(cells)))
        rows.append(f"<tr{css}>{tds}</tr>")
    title = f"<caption>{escape(str(table.title))}</caption>" if table.title else ""
    note = f'<p class="caption">{escape(str(table.caption))}</p>' if table.caption else ""
    return (
        f'<table class="block">{title}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>{note}"
    )


def _hits(hits: list[tuple[str, bool | None]]) -> str:
    items = []
    for text, right in hits:
        mark = "" if right is None else ('<span class="ok">✓</span> ' if right else "✗ ")
        items.append(f"<li>{mark}{escape(text)}</li>")
    return f"<ol>{''.join(items)}</ol>"


def examples_html(examples: Examples) -> str:
    """The examples as a table: query, its hits by the trained encoder, and by the base
    model when the examples have them."""
    with_base = any(row.base is not None for row in examples.rows)
    head = "<th>query</th><th>trained encoder</th>" + ("<th>base model</th>" * with_base)
    rows = []
    for row in examples.rows:
        base = f"<td>{_hits(row.base or [])}</td>" if with_base else ""
        rows.append(f"<tr><td>{escape(row.query)}</td><td>{_hits(row.hits)}</td>{base}</tr>")
    return (
        f'<table id="examples" class="examples"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
        f'<p class="caption">{escape(examples.caption)}</p>'
    )
