"""Where a run's table comes from: a bundled table, or `data.path` as CSV / Parquet."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sklearn.model_selection import train_test_split

from contrastkit.data.table import (
    BUNDLED,
    RawTable,
    bundled_table,
    read_table,
)
from contrastkit.data.table_split import TableSplit, describe_table, preprocess
from contrastkit.errors import UserError
from contrastkit.modalities.options import DataConfig

TABLE_SOURCES = (*BUNDLED, "csv", "parquet")


def read_table_source(cfg: DataConfig) -> RawTable:
    """The raw table a config names: a bundled one, or `data.path` read as CSV / Parquet."""
    if cfg.source in ("csv", "parquet"):
        if cfg.path is None:
            raise UserError(f"data.source {cfg.source!r} needs data.path (the file to read)")
        return read_table(
            cfg.path,
            "csv" if cfg.source == "csv" else "parquet",
            label=cfg.label,
            categorical_columns=cfg.categorical_columns,
            id_column=cfg.id_column,
        )
    if cfg.source not in TABLE_SOURCES:
        raise UserError(f"data.source {cfg.source!r} is not a table ({', '.join(TABLE_SOURCES)})")
    return bundled_table(cfg.source)


def load_table_data(cfg: DataConfig, log: Callable[[str], None] = lambda _msg: None) -> TableSplit:
    """Read, type, split and preprocess the table a config names; log the column summary."""
    split = preprocess(read_table_source(cfg), test_fraction=cfg.test_fraction, seed=cfg.split_seed)
    for line in describe_table(split):
        log(line)
    return split


def train_mask(raw: RawTable, *, test_fraction: float, seed: int) -> np.ndarray:
    """Shape: (N,) bool, the training rows of `preprocess`'s stratified split (the same
    call, so the statistics an export writes are those training used)."""
    if raw.labels is None:
        raise UserError(f"{raw.name}: no label column; set data.label")
    class_names = sorted(set(raw.labels.tolist()))
    y = np.array([class_names.index(v) for v in raw.labels], dtype=np.int64)
    idx_train, _ = train_test_split(
        np.arange(len(y)), test_size=test_fraction, random_state=seed, stratify=y
    )
    mask = np.zeros(len(y), dtype=bool)
    mask[idx_train] = True
    return mask
