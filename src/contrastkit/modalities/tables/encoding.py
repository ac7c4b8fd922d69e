"""New rows encoded as the training rows were: the imputation, standardisation and category
codes fitted on the run's training split (`data/table_split.py`), applied to another table.

`preprocess` fits each column on the training rows: numeric columns are imputed with the
training median and standardised with the training mean and std; categorical columns get
codes 1..K for the training categories (sorted) and 0 for missing or unseen ones.
`TableEncoding.fit` recomputes exactly those statistics from the raw table and the split, so
`encode(raw)` of the training table gives back `TableSplit`'s rows bit for bit (tested).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from contrastkit.data.table import (
    RawTable,
    check_width,
    csv_header,
    read_table,
)
from contrastkit.data.table_split import leading_columns
from contrastkit.errors import UserError
from contrastkit.modalities.tables.sources import train_mask


@dataclass(frozen=True)
class NumericFit:
    """One numeric column's training statistics: median (imputation), mean and std."""

    median: float
    mean: float
    std: float


@dataclass(frozen=True)
class NewRows:
    """A table encoded for the run's encoder.

    Attributes:
        numeric: Shape: (N, Dn), float32, standardised.
        codes: Shape: (N, Dc), int64 category codes (0 = missing or unseen).
        ids: One id per row (`FILE:K`, K the data row from 1, or the id column's value).
        shown: Each row's leading columns (`leading_columns`).
        notes: What was imputed or unseen, per column.
    """

    numeric: Tensor
    codes: Tensor
    ids: list[str]
    shown: list[str]
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TableEncoding:
    """The column encoding of a run, fitted on its training rows.

    Attributes:
        numeric: Numeric column name -> its training statistics, in the encoder's order.
        vocab: Categorical column name -> the sorted training categories (code = index + 1).
        label: The label column's name in a CSV/Parquet source (ignored in new data).
        id_column: The id column's name in training (the ids of new data that has it).
    """

    numeric: dict[str, NumericFit]
    vocab: dict[str, list[str]]
    label: str | None
    id_column: str | None = None

    @classmethod
    def fit(
        cls,
        raw: RawTable,
        *,
        test_fraction: float,
        seed: int,
        label: str | None,
        id_column: str | None = None,
    ) -> TableEncoding:
        """The statistics `preprocess` fits, from the same stratified split of `raw`."""
        train = train_mask(raw, test_fraction=test_fraction, seed=seed)
        numeric = {}
        for name, values in raw.numeric.items():
            fit = values[train]
            median = np.nanmedian(fit) if not np.isnan(fit).all() else np.nanmedian(values)
            filled = np.where(np.isnan(values), median, values)
            std = filled[train].std()
            numeric[name] = NumericFit(
                float(median), float(filled[train].mean()), float(std if std > 0 else 1.0)
            )
        vocab = {
            name: sorted({v for v in values[train] if v is not None})
            for name, values in raw.categorical.items()
        }
        return cls(numeric=numeric, vocab=vocab, label=label, id_column=id_column)

    @property
    def columns(self) -> list[str]:
        return [*self.numeric, *self.vocab]

    def encode(self, raw: RawTable, *, where: str) -> tuple[Tensor, Tensor, list[str]]:
        """`raw`'s rows in the training encoding: (numeric (N, Dn), codes (N, Dc), notes).

        Raises:
            UserError: a training numeric column holds text in `raw`.
        """
        n = raw.num_rows
        notes: list[str] = []
        num = np.zeros((n, len(self.numeric)), dtype=np.float64)
        for j, (name, fit) in enumerate(self.numeric.items()):
            if name in raw.categorical:
                bad = next((v for v in raw.categorical[name] if v is not None), None)
                raise UserError(
                    f"{where}: column {name!r} must hold numbers as in training, got {bad!r}"
                )
            values = raw.numeric[name]
            missing = int(np.isnan(values).sum())
            if missing:
                notes.append(
                    f"column {name!r}: {missing} missing value(s) set to the training median"
                )
            num[:, j] = (np.where(np.isnan(values), fit.median, values) - fit.mean) / fit.std
        codes = np.zeros((n, len(self.vocab)), dtype=np.int64)
        for j, (name, vocab) in enumerate(self.vocab.items()):
            index = {v: i + 1 for i, v in enumerate(vocab)}
            column = raw.categorical[name]  # read as text: `read` forces these columns
            codes[:, j] = [index.get(v, 0) for v in column]
            missing = sum(v is None for v in column)
            unseen = sorted({v for v in column if v is not None and v not in index})
            if missing:
                notes.append(f"column {name!r}: {missing} missing value(s) coded as unknown")
            if unseen:
                shown = ", ".join(repr(v) for v in unseen[:5]) + (
                    ", ..." if len(unseen) > 5 else ""
                )
                notes.append(
                    f"column {name!r}: {len(unseen)} categor{'y' if len(unseen) == 1 else 'ies'} "
                    f"not seen in training ({shown}) coded as unknown"
                )
        return (
            torch.from_numpy(num.astype(np.float32)),
            torch.from_numpy(codes),
            notes,
        )

    def read(self, path: Path, *, id_column: str | None = None) -> NewRows:
        """Read a CSV or Parquet file with the training columns and encode it.

        Ids: the `id_column`'s values (by default the training id column, when the file has
        it), else ``FILE:K`` for the K-th data row (K from 1; the header is not counted and
        blank lines are skipped, so row K is pandas' ``iloc[K-1]``).

        Raises:
            UserError: unreadable file, a missing `id_column`, or columns that differ from
                training (the missing and extra ones are named).
        """
        header = _header(path)
        if id_column is not None and id_column not in header:
            raise UserError(
                f"{path}: --id-column {id_column!r} is not a column (columns: {', '.join(header)})"
            )
        if id_column is None and self.id_column in header:
            id_column = self.id_column
        ignored = {c for c in (self.label, id_column, self.id_column) if c}
        missing = [c for c in self.columns if c not in header]
        extra = [c for c in header if c not in self.columns and c not in ignored]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"missing {', '.join(missing)}")
            if extra:
                parts.append(f"extra {', '.join(extra)}")
            raise UserError(
                f"{path}: columns differ from training ({'; '.join(parts)}); the run was trained "
                f"on {', '.join(self.columns)}"
            )
        raw = read_table(
            path,
            "parquet" if path.suffix.lower() == ".parquet" else "csv",
            label=self.label if self.label in header else None,
            categorical_columns=[c for c in self.vocab if c in header],
            id_column=id_column,
        )
        ids = raw.row_ids() if id_column else [f"{path.name}:{k + 1}" for k in range(raw.num_rows)]
        numeric, codes, notes = self.encode(raw, where=str(path))
        return NewRows(numeric, codes, ids, leading_columns(raw), notes)


def _header(path: Path) -> list[str]:
    """The column names of a CSV or Parquet file (UserError when unreadable)."""
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    if path.suffix.lower() == ".parquet":
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise UserError(
                "reading Parquet needs pyarrow: pip install 'contrastkit[tables]'"
            ) from None
        try:
            names = [str(c) for c in pq.read_schema(path).names]
        except OSError as err:
            raise UserError(f"{path}: not a readable Parquet file ({err})") from None
        check_width(path, len(names))
        return names
    header = csv_header(path)
    if not header:
        raise UserError(f"{path}: empty file; expected a header row with column names")
    return header
