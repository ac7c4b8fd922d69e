"""Tables: CSV and Parquet readers and scikit-learn's bundled tables, as typed raw columns.

A reader returns a `RawTable`: numeric columns as float64 arrays (NaN where missing) and
categorical columns as arrays of strings (None where missing), plus the label column.
Column types are inferred: a column whose every present value parses as a finite number is
numeric, anything else is categorical, unless it is *mostly* numbers (>= 90 %), which is
taken for a typo and reported (`text in a numeric column`). `data.categorical_columns` forces
a number-looking column (zip codes, ids of categories) to categorical. The preprocessing
(imputation, standardisation, category codes, split) is in `contrastkit.data.table_split`.

Bad input raises `UserError` naming the file, the line (CSV, 1-based, header = line 1) or
row (Parquet, 1-based) and the column.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from sklearn import datasets

from contrastkit.data.csv_errors import csv_errors
from contrastkit.errors import UserError

MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "?"})
"""Cell texts (case-insensitive, stripped) read as a missing value."""

NUMERIC_MAJORITY = 0.9
"""A column with at least this fraction of numbers among its present values is numeric,
and a non-number in it is an error rather than a reason to make it categorical."""

BUNDLED = ("breast_cancer", "wine", "iris", "digits_table")


@dataclass(frozen=True)
class RawTable:
    """Columns as read, before imputation and encoding.

    Attributes:
        numeric: Column name -> Shape: (N,) float64, NaN where missing.
        categorical: Column name -> Shape: (N,) object array of str, None where missing.
        labels: Shape: (N,) object array of str (the label column), or None when unlabelled.
        name: What the data is called in `metrics.json`.
        ids: Shape: (N,) object array of str, the id column's values (not a feature), or
            None when the table has no id column.
    """

    numeric: dict[str, np.ndarray]
    categorical: dict[str, np.ndarray]
    labels: np.ndarray | None
    name: str
    ids: np.ndarray | None = None

    def row_ids(self) -> list[str]:
        """What names each row: its id column's value, else `NAME:K` for data row K from 1
        (the header not counted, blank lines skipped: pandas' `iloc[K-1]`)."""
        if self.ids is not None:
            return [str(v) for v in self.ids]
        return [f"{self.name}:{k + 1}" for k in range(self.num_rows)]

    @property
    def num_rows(self) -> int:
        columns = [*self.numeric.values(), *self.categorical.values()]
        return len(columns[0]) if columns else 0


def _is_missing(cell: str | None) -> bool:
    return cell is None or cell.strip().lower() in MISSING_TOKENS


def _as_number(cell: str) -> float | None:
    try:
        value = float(cell)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _type_column(
    cells: list[str | None],
    *,
    column: str,
    where: Callable[[int], str],
    force_categorical: bool,
) -> tuple[str, np.ndarray]:
    """("numeric", float64 array) or ("categorical", object array) for one column's cells.

    Raises:
        UserError: every cell is missing, or a mostly-numeric column holds text.
    """
    present = [i for i, cell in enumerate(cells) if not _is_missing(cell)]
    if not present:
        raise UserError(f"{where(0)}column {column!r} is empty in all {len(cells)} rows")
    if force_categorical:
        return "categorical", np.array(
            [None if _is_missing(c) else str(c).strip() for c in cells], dtype=object
        )
    for i in present:
        try:
            huge = not math.isfinite(float(str(cells[i])))
        except ValueError:
            continue
        if huge:  # 1e400, inf: a number no float holds, not a category
            raise UserError(
                f"{where(i)}column {column!r}: {cells[i]!r} is not a finite number (leave the "
                "cell empty to mark it missing)"
            )
    numbers = {i: _as_number(str(cells[i])) for i in present}
    bad = [i for i in present if numbers[i] is None]
    if not bad:
        values = np.full(len(cells), np.nan)
        for i, value in numbers.items():
            values[i] = value
        return "numeric", values
    if len(present) - len(bad) >= NUMERIC_MAJORITY * len(present):
        first = bad[0]
        raise UserError(
            f"{where(first)}column {column!r}: {cells[first]!r} is not a number, but "
            f"{len(present) - len(bad)} of the column's {len(present)} values are (fix the "
            f"cell, leave it empty to mark it missing, or list the column in "
            f"data.categorical_columns)"
        )
    return "categorical", np.array(
        [None if _is_missing(c) else str(c).strip() for c in cells], dtype=object
    )


def _check_column(column: str | None, what: str, names: list[str], source: str) -> None:
    if column is None or column in names:
        return
    close = difflib.get_close_matches(column, names, n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise UserError(f"{source}: {what} {column!r} not found{hint} (columns: {', '.join(names)})")


@dataclass(frozen=True)
class _Roles:
    """The columns a reader is told about: the label, the row ids, and the columns to read
    as categories whatever their cells look like."""

    label: str | None
    id_column: str | None
    categorical_columns: tuple[str, ...]

    def check(self, names: list[str], source: str) -> None:
        """Every column named is in `names` (the header of `source`)."""
        _check_column(self.label, "label column", names, source)
        _check_column(self.id_column, "id column", names, source)
        unknown = [c for c in self.categorical_columns if c not in names]
        if unknown:
            raise UserError(
                f"{source}: data.categorical_columns names {unknown[0]!r}, which is not a "
                f"column (columns: {', '.join(names)})"
            )


def _full_texts(cells: list[str | None], what: str, where: Callable[[int], str]) -> np.ndarray:
    """The stripped texts of a label or id column, which may not have an empty cell."""
    missing = [i for i, cell in enumerate(cells) if _is_missing(cell)]
    if missing:
        raise UserError(f"{where(missing[0])}{what} is empty")
    return np.array([str(c).strip() for c in cells], dtype=object)


@dataclass(frozen=True)
class _Columns:
    """A file's columns as read, before typing: the header's names, every column's cells
    (None where missing), the columns already read as numbers, and how to name a row."""

    names: list[str]
    cells: list[list[str | None]]
    numeric_ready: dict[str, np.ndarray]
    where: Callable[[int], str]


def _columns_to_table(roles: _Roles, columns: _Columns, *, name: str) -> RawTable:
    """Type every column (`columns.numeric_ready` holds columns already read as numbers)."""
    where, numeric_ready = columns.where, columns.numeric_ready
    numeric: dict[str, np.ndarray] = {}
    categorical: dict[str, np.ndarray] = {}
    labels = ids = None
    for column, column_cells in zip(columns.names, columns.cells, strict=True):
        if column == roles.id_column:
            ids = _full_texts(column_cells, f"id column {column!r}", where)
            continue
        if column == roles.label:
            labels = _full_texts(column_cells, f"label column {column!r}", where)
            continue
        if column in numeric_ready and column not in roles.categorical_columns:
            values = numeric_ready[column]
            if np.isnan(values).all():
                raise UserError(f"{where(0)}column {column!r} is empty in all {len(values)} rows")
            numeric[column] = values
            continue
        kind, values = _type_column(
            column_cells,
            column=column,
            where=where,
            force_categorical=column in roles.categorical_columns,
        )
        (numeric if kind == "numeric" else categorical)[column] = values
    if not numeric and not categorical:
        raise UserError(f"{where(0)}no feature columns besides the label and id columns")
    return RawTable(numeric=numeric, categorical=categorical, labels=labels, name=name, ids=ids)


MAX_COLUMNS = 10_000
"""The widest table read (columns, the label included): a wider one is refused at its
header, before anything is parsed (docs/tabular.md)."""


def check_width(path: Path, columns: int) -> None:
    """Refuse a table of more than `MAX_COLUMNS` columns.

    Raises:
        UserError: naming the file, its width and the limit.
    """
    if columns > MAX_COLUMNS:
        raise UserError(
            f"{path}: {columns:,} columns; contrastkit reads tables of at most "
            f"{MAX_COLUMNS:,} columns (select the feature columns first)"
        )


TableFormat = Literal["csv", "parquet"]


def read_table(
    path: str | Path,
    kind: TableFormat,
    *,
    label: str | None = None,
    categorical_columns: list[str] | None = None,
    id_column: str | None = None,
) -> RawTable:
    """Read a CSV file with a header row (UTF-8, comma-separated, quotes allowed) or a
    Parquet file (numeric columns stay numbers, others are typed like CSV cells); the
    `id_column`'s values name the rows and are not a feature.

    Raises:
        UserError: missing file, invalid UTF-8, no header or no rows, a row with a different
            number of fields than the header (ragged), duplicate column names, an unknown
            label, id or categorical column, an all-empty column, text in a numeric column,
            an infinite number; a CSV row is named by its line (the header is line 1), a
            Parquet row by its number counted from 1. Parquet also needs pandas and pyarrow
            (the `tables` extra).
    """
    path = Path(path)
    roles = _Roles(label, id_column, tuple(categorical_columns or ()))
    read = _csv_columns if kind == "csv" else _parquet_columns
    return _columns_to_table(roles, read(path, roles), name=path.stem)


def _csv_columns(path: Path, roles: _Roles) -> _Columns:
    """The CSV file's columns; the named ones are checked once the header is read."""
    if not path.is_file():
        raise UserError(f"{path}: no such CSV file")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise UserError(f"{path}: line {line}: not valid UTF-8 (byte {err.start})") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    with csv_errors(path, reader):
        rows, lines, names = _rows(path, reader)
    if not rows:
        raise UserError(f"{path}: a header but no data rows")
    roles.check(names, str(path))
    cells: list[list[str | None]] = [[row[j] for row in rows] for j in range(len(names))]
    return _Columns(names, cells, {}, lambda i: f"{path}: line {lines[i]}: ")


def _rows(path: Path, reader: Any) -> tuple[list[list[str]], list[int], list[str]]:
    """The data rows of a CSV reader, their line numbers and the header's column names.

    Raises:
        UserError: no header, duplicate or too many columns, a ragged row.
    """
    header = next(reader, None)
    if not header or all(not h.strip() for h in header):
        raise UserError(f"{path}: empty file; expected a header row with column names")
    names = [h.strip() for h in header]
    check_width(path, len(names))
    duplicates = sorted(n for n, times in Counter(names).items() if times > 1)
    if duplicates:
        raise UserError(f"{path}: line 1: duplicate column name {duplicates[0]!r}")
    rows: list[list[str]] = []
    lines: list[int] = []
    for row in reader:
        if not row:
            continue
        if len(row) != len(names):
            shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
            raise UserError(
                f"{path}: line {reader.line_num}: {len(row)} fields, but the header has "
                f"{len(names)} columns ({shown})"
            )
        rows.append(row)
        lines.append(reader.line_num)
    return rows, lines, names


def _parquet_columns(path: Path, roles: _Roles) -> _Columns:
    """The Parquet file's columns; the named ones are checked before any cell is read."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
        from pandas.api.types import is_bool_dtype, is_numeric_dtype
    except ImportError:
        raise UserError(
            f"{path}: reading Parquet needs pandas and pyarrow: pip install 'contrastkit[tables]'"
        ) from None

    if not path.is_file():
        raise UserError(f"{path}: no such Parquet file")
    try:
        check_width(path, len(pq.read_schema(path).names))
        frame = pq.read_table(path).to_pandas()
    except (pa.ArrowException, OSError) as err:
        raise UserError(f"{path}: not a readable Parquet file ({err})") from None
    if len(frame) == 0:
        raise UserError(f"{path}: no rows")
    names = [str(c) for c in frame.columns]
    roles.check(names, str(path))
    numeric_ready: dict[str, np.ndarray] = {}
    cells: list[list[str | None]] = []
    for column, name in zip(frame.columns, names, strict=True):
        series = frame[column]
        if is_numeric_dtype(series) and not is_bool_dtype(series):
            values = series.to_numpy(dtype=np.float64, na_value=np.nan)
            infinite = np.flatnonzero(np.isinf(values))
            if len(infinite):
                raise UserError(
                    f"{path}: row {infinite[0] + 1}: column {name!r}: {values[infinite[0]]} "
                    f"is not a finite number"
                )
            numeric_ready[name] = values
        cells.append([None if _is_null(v) else str(v) for v in series.tolist()])
    return _Columns(names, cells, numeric_ready, lambda i: f"{path}: row {i + 1}: ")


def _is_null(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def csv_header(path: Path) -> list[str]:
    """The column names on the first line of a CSV file (stripped; [] for an empty file).

    Raises:
        UserError: the file is not valid UTF-8, not readable as CSV or too wide.
    """
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            with csv_errors(path, reader):
                first = next(reader, None)
    except UnicodeDecodeError:
        raise UserError(f"{path}: not valid UTF-8") from None
    header = [h.strip() for h in first or []]
    check_width(path, len(header))
    return header


def bundled_table(name: str) -> RawTable:
    """scikit-learn's bundled tables (no network): breast_cancer (569 x 30, 2 classes),
    wine (178 x 13, 3), iris (150 x 4, 3), digits_table (1797 x 64 pixel columns, 10)."""
    loaders = {
        "breast_cancer": datasets.load_breast_cancer,
        "wine": datasets.load_wine,
        "iris": datasets.load_iris,
        "digits_table": datasets.load_digits,
    }
    if name not in loaders:
        raise UserError(f"unknown bundled table {name!r} (known: {', '.join(BUNDLED)})")
    bunch = loaders[name]()
    x = np.asarray(bunch.data, dtype=np.float64)
    if name == "digits_table":
        columns = [f"pixel_{r}_{c}" for r in range(8) for c in range(8)]
    else:
        columns = [str(c) for c in bunch.feature_names]
    names = [str(n) for n in bunch.target_names]
    labels = np.array([names[t] for t in bunch.target], dtype=object)
    return RawTable(
        numeric={c: x[:, j] for j, c in enumerate(columns)},
        categorical={},
        labels=labels,
        name=name,
    )
