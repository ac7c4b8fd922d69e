"""A table query as a file: a one-row CSV as it is, or `'a=1,b=x'` written to a temporary
one-row CSV (so that it is read and encoded exactly as a file of new rows)."""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from contrastkit.errors import UserError


def parse_row(text: str) -> dict[str, str]:
    """`'a=1,b=x'` -> {'a': '1', 'b': 'x'} (an empty value is a missing value).

    Raises:
        UserError: a part without '=' or a column named twice.
    """
    row: dict[str, str] = {}
    for part in text.split(","):
        name, eq, value = part.partition("=")
        if not eq or not name.strip():
            raise UserError(
                f"--row {text!r}: expected 'column=value' pairs separated by commas, got {part!r}"
            )
        if name.strip() in row:
            raise UserError(f"--row {text!r}: column {name.strip()!r} given twice")
        row[name.strip()] = value.strip()
    return row


@contextmanager
def row_file(query: str, columns: list[str]) -> Iterator[Path]:
    """The path of a one-row CSV for `query`: the file itself when it exists, else a
    temporary CSV of the parsed `'col=value'` pairs (removed afterwards)."""
    path = Path(query)
    if path.suffix.lower() in (".csv", ".parquet"):
        if not path.is_file():
            raise UserError(f"--query {query}: no such file")
        yield path
        return
    if "=" not in query:
        raise UserError(
            f"--query {query!r}: a table run takes a one-row CSV file or "
            f"--row 'col=value,...' with the columns {', '.join(columns)}"
        )
    row = parse_row(query)
    with tempfile.TemporaryDirectory(prefix="contrastkit-row-") as folder:
        tmp = Path(folder) / "row.csv"
        with tmp.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(list(row))
            writer.writerow(list(row.values()))
        yield tmp
