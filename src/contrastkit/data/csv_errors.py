"""CSV files read with the standard library's `csv` module: a file it cannot parse (a
field longer than its size limit, a NUL byte) ends in a `UserError` naming the file and
the line, not in `csv.Error`.

Example:
    >>> reader = csv.reader(handle)
    >>> with csv_errors(path, reader):
    ...     rows = list(reader)
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from contrastkit.errors import UserError

FIELD_LIMIT = csv.field_size_limit()
"""The longest field the `csv` module reads (131,072 characters): longer ones are refused."""


def csv_problem(path: Path, err: csv.Error, line: int) -> UserError:
    """The one-line error for `err`, raised while reading `line` of `path`."""
    said = str(err)
    if "field larger than field limit" in said:
        said = f"a field longer than {FIELD_LIMIT:,} characters (the CSV field size limit)"
    return UserError(f"{path}: line {line}: not readable as CSV: {said}")


@contextmanager
def csv_errors(path: Path, reader: Any) -> Iterator[None]:
    """Turn a `csv.Error` raised in the block into a `UserError` naming `path` and the
    line `reader` (a `csv.reader` or `csv.DictReader`) had reached."""
    try:
        yield
    except csv.Error as err:
        raise csv_problem(path, err, reader.line_num) from None
