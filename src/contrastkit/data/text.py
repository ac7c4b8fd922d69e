"""Readers for text corpora: one sentence per line, and CSV / JSONL pairs or triplets.

Pair files have the columns (CSV header) or keys (JSONL objects) ``anchor`` and
``positive``, and optionally ``negative`` (a hard negative, then on every row). Bad input
raises `UserError` naming the file, the line or row, and the column.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from contrastkit.data.csv_errors import csv_errors
from contrastkit.data.text_split import TextPairs
from contrastkit.errors import UserError

PAIR_COLUMNS = ("anchor", "positive")
NEGATIVE_COLUMN = "negative"
PAIR_SUFFIXES = (".csv", ".jsonl")


def read_utf8(path: Path) -> str:
    """The file's text (a leading byte-order mark dropped); invalid UTF-8 is reported with
    its line and byte column."""
    if not path.is_file():
        raise UserError(f"{path}: file not found")
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        column = err.start - (raw.rfind(b"\n", 0, err.start) + 1) + 1
        raise UserError(
            f"{path}: line {line}, byte {column}: invalid UTF-8 (byte 0x{raw[err.start]:02x}); "
            "save the file as UTF-8"
        ) from None


def read_text_lines(path: str | Path) -> list[str]:
    """Non-blank lines of a UTF-8 text file, stripped, in order (duplicates kept).

    Raises:
        UserError: missing file, invalid UTF-8, or no non-blank line.
    """
    path = Path(path)
    lines = [line.strip() for line in read_utf8(path).splitlines()]
    texts = [line for line in lines if line]
    if not texts:
        raise UserError(f"{path}: no text (the file is empty or has only blank lines)")
    return texts


def _groups_by_anchor(anchors: list[str]) -> list[int]:
    index: dict[str, int] = {}
    return [index.setdefault(text, len(index)) for text in anchors]


def _pairs(path: Path, rows: list[tuple[str, dict[str, str]]], has_negative: bool) -> TextPairs:
    if not rows:
        raise UserError(f"{path}: no pairs (the file has no data rows)")
    anchors = [row["anchor"] for _, row in rows]
    return TextPairs(
        anchors=anchors,
        positives=[row["positive"] for _, row in rows],
        negatives=[row[NEGATIVE_COLUMN] for _, row in rows] if has_negative else None,
        groups=_groups_by_anchor(anchors),
    )


def _check_cells(path: Path, where: str, row: dict[str, str], columns: tuple[str, ...]) -> None:
    for column in columns:
        if not row[column].strip():
            raise UserError(f"{path}: {where}, column '{column}': empty text")


def _read_csv(path: Path) -> TextPairs:
    reader = csv.reader(io.StringIO(read_utf8(path), newline=""))
    with csv_errors(path, reader):
        return _csv_pairs(path, reader)


def _csv_pairs(path: Path, reader: Any) -> TextPairs:
    header = next(reader, None)
    if header is None:
        raise UserError(f"{path}: empty file (expected a header: anchor,positive[,negative])")
    header = [name.strip() for name in header]
    for column in PAIR_COLUMNS:
        if column not in header:
            raise UserError(
                f"{path}: line 1: missing column '{column}' (header has: {', '.join(header)}; "
                "expected anchor, positive and optionally negative)"
            )
    has_negative = NEGATIVE_COLUMN in header
    wanted = PAIR_COLUMNS + ((NEGATIVE_COLUMN,) if has_negative else ())
    rows: list[tuple[str, dict[str, str]]] = []
    for cells in reader:
        if not cells:
            continue
        where = f"line {reader.line_num}"
        if len(cells) != len(header):
            raise UserError(
                f"{path}: {where}: expected {len(header)} fields ({', '.join(header)}), "
                f"got {len(cells)}"
            )
        row = {name: cells[header.index(name)].strip() for name in wanted}
        _check_cells(path, where, row, wanted)
        rows.append((where, row))
    return _pairs(path, rows, has_negative)


def _read_jsonl(path: Path) -> TextPairs:
    rows: list[tuple[str, dict[str, str]]] = []
    has_negative: bool | None = None
    for number, line in enumerate(read_utf8(path).splitlines(), start=1):
        if not line.strip():
            continue
        where = f"line {number}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as err:
            raise UserError(f"{path}: {where}: not valid JSON ({err.msg})") from None
        if not isinstance(obj, dict):
            raise UserError(f"{path}: {where}: expected a JSON object with anchor and positive")
        for key in PAIR_COLUMNS:
            if key not in obj:
                raise UserError(f"{path}: {where}: missing key '{key}' (has: {', '.join(obj)})")
        row_has_negative = NEGATIVE_COLUMN in obj
        if has_negative is None:
            has_negative = row_has_negative
        elif row_has_negative != has_negative:
            state = "has" if row_has_negative else "lacks"
            raise UserError(
                f"{path}: {where}: {state} key 'negative' unlike the first row "
                "(give a negative on every row or on none)"
            )
        wanted = PAIR_COLUMNS + ((NEGATIVE_COLUMN,) if has_negative else ())
        for key in wanted:
            if not isinstance(obj[key], str):
                kind = type(obj[key]).__name__
                raise UserError(f"{path}: {where}, key '{key}': expected a string, got {kind}")
        row = {key: obj[key].strip() for key in wanted}
        _check_cells(path, where, row, wanted)
        rows.append((where, row))
    return _pairs(path, rows, bool(has_negative))


def read_text_pairs(path: str | Path) -> TextPairs:
    """Pairs or triplets from a `.csv` (with a header) or `.jsonl` file.

    Rows are grouped by anchor text (equal anchors share a group), so a held-out split
    never puts one anchor on both sides.

    Raises:
        UserError: missing file, unknown suffix, invalid UTF-8 or JSON, missing column or
            key, ragged CSV row, empty text, a negative on some rows only, no rows.
    """
    path = Path(path)
    if path.suffix == ".csv":
        return _read_csv(path)
    if path.suffix == ".jsonl":
        return _read_jsonl(path)
    raise UserError(f"{path}: unknown pair file type (expected one of {', '.join(PAIR_SUFFIXES)})")
