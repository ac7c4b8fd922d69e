"""The table modality's part of `train` / `eval` / `embed`: check the recipe, build the MLP
method, hand the loop the rows and their corruption, evaluate on the label budgets.

`run.py` calls these when `data.source` is a table; the loop and run directory are shared.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from contrastkit.augment.build import build_table_augment
from contrastkit.augment.tabular import RowAugment
from contrastkit.batches import RowBatch
from contrastkit.builders import Log, build_method
from contrastkit.config import Config
from contrastkit.data.table_split import TABLE_SOURCES, TableSplit, load_table_data
from contrastkit.encoders.build import build_table_encoder
from contrastkit.errors import UserError
from contrastkit.eval.tabular_suite import embed_rows, evaluate_table
from contrastkit.methods.registry import method_spec, methods_for


def is_table(cfg: Config) -> bool:
    """Whether the config describes a table run.

    Raises:
        UserError: a table without model.encoder=mlp and a table method, or the reverse.
    """
    table = cfg.data.source in TABLE_SOURCES
    table_method = method_spec(cfg.method.name).batch is RowBatch
    if table != table_method or table != (cfg.model.encoder == "mlp"):
        raise UserError(
            f"data.source={cfg.data.source!r}, method.name={cfg.method.name!r}, "
            f"model.encoder={cfg.model.encoder!r} do not fit: a table "
            f"({', '.join(TABLE_SOURCES)}) needs model.encoder=mlp and method.name in "
            f"({', '.join(methods_for(RowBatch))}), and those need a table "
            "(configs/tabular_scarf.yaml)"
        )
    return table


def table_encoder(cfg: Config, table: TableSplit) -> nn.Module:
    """A new MLP encoder sized for the table's numeric and categorical columns."""
    return build_table_encoder(
        cfg.model, num_numeric=len(table.numeric_names), cardinalities=table.cardinalities
    )


def build_table_method(cfg: Config, table: TableSplit | None = None) -> nn.Module:
    """The configured method on an MLP sized for the table's columns."""
    loaded = load_table_data(cfg.data) if table is None else table
    return build_method(cfg, lambda: table_encoder(cfg, loaded))


@dataclass(frozen=True)
class TableTraining:
    """What the loop needs for a table run."""

    method: nn.Module
    rows: RowBatch
    augment: RowAugment
    name: str


def table_training(cfg: Config, log: Log) -> TableTraining:
    """Load and encode the table (logging what was read), build the method and corruption."""
    table = load_table_data(cfg.data, log=log)
    return TableTraining(
        method=build_table_method(cfg, table),
        rows=RowBatch(*table.train_rows),
        augment=build_table_augment(cfg.augment, *table.train_rows),
        name=table.name,
    )


def evaluate_table_run(cfg: Config, method: nn.Module, log: Log) -> dict[str, Any]:
    """The image suite's probes on the table, plus the `tabular` block of label budgets."""
    table = load_table_data(cfg.data)
    encoder = method.encoder
    assert isinstance(encoder, nn.Module)
    device = next(encoder.parameters()).device
    return evaluate_table(
        encoder,
        table,
        cfg.eval,
        augment=build_table_augment(cfg.augment, *table.train_rows),
        make_encoder=lambda: table_encoder(cfg, table).to(device),
        seed=cfg.seed,
        log=log,
    )


def embed_table(cfg: Config, encoder: nn.Module, data_name: str) -> Tensor:
    """Embeddings of the run's table, train rows then test rows. Shape: (N, D).

    Raises:
        UserError: `data_name` is neither 'train' nor the run's `data.source`.
    """
    if data_name not in (cfg.data.source, "train"):
        raise UserError(f"--data {data_name}: this run embeds its table {cfg.data.source!r}")
    table = load_table_data(cfg.data)
    numeric = torch.cat([table.num_train, table.num_test])
    codes = torch.cat([table.cat_train, table.cat_test])
    return embed_rows(encoder, numeric, codes)
