"""A preprocessed table: standardised numeric columns + integer category codes, split once.

Preprocessing is fitted on the training rows only and applied to both splits:
numeric columns: missing -> training median, then (x - mean) / std with training statistics
(std 0 -> 1); categorical columns: codes 1..K for the K categories seen in training, code 0
for missing values and categories never seen in training. Missing values are counted per
column (`TableSplit.missing`) and printed with the inferred column types.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from torch import Tensor

from contrastkit.data.table import RawTable
from contrastkit.errors import UserError


@dataclass(frozen=True)
class TableSplit:
    """A labelled train/test split of a table, ready for `fit` and the probes.

    Attributes:
        num_train: Shape: (N, Dn), float32, standardised. num_test: Shape: (M, Dn).
        cat_train: Shape: (N, Dc), int64 codes, 0 = missing/unseen. cat_test: Shape: (M, Dc).
        y_train: Shape: (N,), int64. y_test: Shape: (M,), int64.
        numeric_names, categorical_names: Column names, in tensor order.
        cardinalities: Codes per categorical column (categories seen in training + 1).
        missing: Column name -> number of missing cells imputed (both splits).
        class_names: Name of each class index.
        name: What the data is called in `metrics.json`.
        rows_train, rows_test: Shape: (N,), (M,), each split's rows in the table read (from 0).
        ids: What names each row of the table read (`RawTable.row_ids`).
        shown: Each row of the table read as a person reads it: its leading columns.
    """

    num_train: Tensor
    cat_train: Tensor
    y_train: Tensor
    num_test: Tensor
    cat_test: Tensor
    y_test: Tensor
    numeric_names: list[str]
    categorical_names: list[str]
    cardinalities: list[int]
    missing: dict[str, int]
    class_names: list[str]
    name: str
    rows_train: np.ndarray
    rows_test: np.ndarray
    ids: list[str]
    shown: list[str]

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def train_rows(self) -> tuple[Tensor, Tensor]:
        """What `fit` trains on: (numeric (N, Dn), codes (N, Dc)) indexed together."""
        return self.num_train, self.cat_train


def _numeric(values: np.ndarray, train: np.ndarray) -> np.ndarray:
    """Impute with the training median, standardise with training statistics."""
    fit = values[train]
    median = np.nanmedian(fit) if not np.isnan(fit).all() else np.nanmedian(values)
    filled = np.where(np.isnan(values), median, values)
    # divided by the largest magnitude first: the variance of values near +-1e300 would
    # overflow to inf and turn the column into zeros
    scale = float(np.abs(filled[train]).max()) if filled[train].size else 0.0
    scaled = filled / scale if scale > 0 else filled
    mean, std = scaled[train].mean(), scaled[train].std()
    return (scaled - mean) / (std if std > 0 else 1.0)


def _codes(values: np.ndarray, train: np.ndarray) -> tuple[np.ndarray, int]:
    """Codes 1..K for the training categories (sorted), 0 for missing or unseen."""
    vocab = sorted({v for v in values[train] if v is not None})
    index = {v: i + 1 for i, v in enumerate(vocab)}
    return np.array([index.get(v, 0) for v in values], dtype=np.int64), len(vocab) + 1


def preprocess(raw: RawTable, *, test_fraction: float, seed: int) -> TableSplit:
    """Stratified split, then impute / standardise / encode fitted on the training rows.

    Raises:
        UserError: the table has no label column, or a class is too small to split.
    """
    if raw.labels is None:
        raise UserError(f"{raw.name}: no label column; set data.label to evaluate on it")
    class_names = sorted(set(raw.labels.tolist()))
    y = np.array([class_names.index(v) for v in raw.labels], dtype=np.int64)
    counts = np.bincount(y)
    if counts.min() < 2:
        small = class_names[int(counts.argmin())]
        raise UserError(f"{raw.name}: class {small!r} has {counts.min()} row; need >= 2 to split")
    try:
        idx_train, idx_test = train_test_split(
            np.arange(len(y)), test_size=test_fraction, random_state=seed, stratify=y
        )
    except ValueError as err:
        raise UserError(f"{raw.name}: cannot split {len(y)} rows: {err}") from None
    train = np.zeros(len(y), dtype=bool)
    train[idx_train] = True
    num = (
        np.stack([_numeric(v, train) for v in raw.numeric.values()], axis=1).astype(np.float32)
        if raw.numeric
        else np.zeros((len(y), 0), dtype=np.float32)
    )
    coded = [_codes(v, train) for v in raw.categorical.values()]
    cat = np.stack([c for c, _ in coded], axis=1) if coded else np.zeros((len(y), 0), np.int64)
    missing = {n: int(np.isnan(v).sum()) for n, v in raw.numeric.items()}
    missing |= {n: int(sum(x is None for x in v)) for n, v in raw.categorical.items()}
    return TableSplit(
        num_train=torch.from_numpy(num[idx_train]),
        cat_train=torch.from_numpy(cat[idx_train]),
        y_train=torch.from_numpy(y[idx_train]),
        num_test=torch.from_numpy(num[idx_test]),
        cat_test=torch.from_numpy(cat[idx_test]),
        y_test=torch.from_numpy(y[idx_test]),
        numeric_names=list(raw.numeric),
        categorical_names=list(raw.categorical),
        cardinalities=[k for _, k in coded],
        missing={n: m for n, m in missing.items() if m},
        class_names=class_names,
        name=raw.name,
        rows_train=np.asarray(idx_train),
        rows_test=np.asarray(idx_test),
        ids=raw.row_ids(),
        shown=leading_columns(raw),
    )


SHOWN_COLUMNS = 4
"""How many leading columns show a row in search hits and the report."""


def leading_columns(raw: RawTable, count: int = SHOWN_COLUMNS) -> list[str]:
    """Each row's first `count` feature columns as `name=value` (numbers with up to 6
    significant digits, '?' for missing), joined by ', '."""
    columns = list(raw.numeric.items())[:count]
    columns += list(raw.categorical.items())[: count - len(columns)]
    cells = []
    for name, values in columns:
        if values.dtype == object:
            cells.append([f"{name}={'?' if v is None else v}" for v in values])
        else:
            cells.append([f"{name}={'?' if np.isnan(v) else f'{v:.6g}'}" for v in values])
    return [", ".join(row) for row in zip(*cells, strict=True)] if cells else [""] * raw.num_rows


def _names(names: list[str], shown: int = 12) -> str:
    """The first `shown` names, then how many more."""
    more = f", ... ({len(names) - shown} more)" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def describe_table(split: TableSplit) -> list[str]:
    """Human-readable lines: inferred column types and imputed-value counts."""
    lines = [
        f"table {split.name}: {len(split.y_train)} train / {len(split.y_test)} test rows, "
        f"{len(split.numeric_names)} numeric + {len(split.categorical_names)} categorical "
        f"columns, {split.num_classes} classes"
    ]
    if split.numeric_names:
        lines.append(f"  numeric: {_names(split.numeric_names)}")
    if split.categorical_names:
        cats = zip(split.categorical_names, split.cardinalities, strict=True)
        lines.append("  categorical: " + ", ".join(f"{n} ({k - 1} categories)" for n, k in cats))
    if split.missing:
        lines.append(
            "  imputed (numeric: training median; categorical: code 0): "
            + ", ".join(f"{n} {m}" for n, m in split.missing.items())
        )
    else:
        lines.append("  no missing values")
    return lines
