"""Public ids of the items in an index: opaque, validated, and never a path.

An index row remembers where its item came from (`FlatIndex.sources`: file paths). The
service never shows those paths and never opens a path a request names: each row gets an
opaque id (the first 16 hex digits of SHA-256 of its source, so ids survive a rebuild of
the index), a request names an id, and the id leads to a row, whose source the index
itself holds. A request id must look like an id (letters, digits, '-', '_'; at most 64
characters), or it is refused before any lookup: `../../etc/passwd`, `/etc/passwd`,
`C:\\x`, `%2e%2e%2f`, an empty string, a NUL byte or a number all give 422; a well-formed
id that the index does not hold gives 404.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

from contrastkit.serve.limits import NOT_FOUND, UNPROCESSABLE, RequestError, preview

ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
DIGITS = 16


def item_id(source: str) -> str:
    """The public id of an item from its source: 16 hex digits of SHA-256."""
    return hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()[:DIGITS]


def check_id(value: Any, *, name: str = "id") -> str:
    """`value` if it is a well-formed id, else `RequestError(422)`."""
    if not isinstance(value, str) or ID_PATTERN.fullmatch(value) is None:
        raise RequestError(
            UNPROCESSABLE,
            f"{name}: {preview(value)} is not an item id (1 to 64 letters, digits, '-' or '_')",
        )
    return value


class ItemIds:
    """Id <-> row of an index, built from the rows' sources.

    Args:
        sources: One source (a file path) per index row, in row order. Two rows with the
            same source get ids `<digest>` and `<digest>-1`, `<digest>-2`, ...
    """

    def __init__(self, sources: Sequence[str]) -> None:
        self._ids: list[str] = []
        self._rows: dict[str, int] = {}
        for row, source in enumerate(sources):
            base = candidate = item_id(source)
            n = 0
            while candidate in self._rows:
                n += 1
                candidate = f"{base}-{n}"
            self._ids.append(candidate)
            self._rows[candidate] = row

    def __len__(self) -> int:
        return len(self._ids)

    def id_of(self, row: int) -> str:
        """The public id of index row `row`."""
        return self._ids[row]

    def row_of(self, value: Any, *, name: str = "id") -> int:
        """The index row an id from a request names.

        Raises:
            RequestError: 422 if `value` is not a well-formed id, 404 if no row has it.
        """
        key = check_id(value, name=name)
        row = self._rows.get(key)
        if row is None:
            raise RequestError(NOT_FOUND, f"{name}: no item with id {key!r} in the index")
        return row
