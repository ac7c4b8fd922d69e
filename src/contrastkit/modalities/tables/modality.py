"""The table modality: typed, standardised rows; corrupted copies as views; label budgets."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from contrastkit.augment.build import build_table_augment
from contrastkit.batches import RowBatch
from contrastkit.data.items import TensorItems
from contrastkit.data.preprocess import fit_table_preprocess
from contrastkit.data.table_split import TableSplit
from contrastkit.encoders.build import build_table_encoder
from contrastkit.encoders.registry import ENCODERS
from contrastkit.encoders.traceable import TableRows
from contrastkit.errors import UserError
from contrastkit.eval.knn import nearest_neighbours
from contrastkit.eval.tabular_suite import embed_rows, evaluate_table
from contrastkit.eval.tabular_table import tabular_table
from contrastkit.methods.registry import MethodSpec
from contrastkit.modalities.base import (
    Embedded,
    EmbeddingViews,
    EmbedOptions,
    Example,
    Examples,
    ExportSpec,
    ExportTower,
    Fitted,
    Log,
    Modality,
    QualityTask,
    Training,
    label_matches,
)
from contrastkit.modalities.images.modality import encoder_of
from contrastkit.modalities.metrics_table import MetricsTable
from contrastkit.modalities.tables.encoding import TableEncoding
from contrastkit.modalities.tables.recipe import (
    guess_id_column,
    guess_label,
    no_label,
    table_recipe,
)
from contrastkit.modalities.tables.row_query import row_file
from contrastkit.modalities.tables.sources import (
    TABLE_SOURCES,
    load_table_data,
    read_table_source,
    train_mask,
)


class TableModality(Modality):
    """Rows of numeric and categorical columns, encoded by an MLP."""

    name = "tables"
    sources = TABLE_SOURCES
    batch_types = (RowBatch,)
    tables = (
        MetricsTable.of_block(
            "tabular", "Label budgets (tables)", "few-label top-1 (%)", tabular_table
        ),
    )

    @classmethod
    def claims(cls, path: Path) -> str | None:
        """'csv' for a .csv file (unless text claims its anchor,positive pairs first),
        'parquet' for a .parquet file."""
        return {".csv": "csv", ".parquet": "parquet"}.get(path.suffix.lower())

    def fitted_defaults(self) -> list[Fitted]:
        """The SCARF recipe (`recipe.py`), and for a CSV / Parquet file the label and id
        columns guessed from its columns when the config names none."""
        d = self.settings.data
        name = Path(d.path).name if d.path else d.source
        fitted = table_recipe(name)
        if d.source not in ("csv", "parquet"):
            return fitted
        raw = read_table_source(d.model_copy(update={"label": None, "id_column": None}))
        label = guess_label(raw) if d.label is None else None
        if d.label is None and label is None:
            raise no_label(raw, name)
        if label is not None:
            fitted.append(label)
        if d.id_column is None:
            chosen = d.label if label is None else label.values["label"]
            id_column = guess_id_column(raw, label=chosen)
            if id_column is not None:
                fitted.append(id_column)
        return fitted

    @cached_property
    def table(self) -> TableSplit:
        return load_table_data(self.settings.data)

    def check(self, spec: MethodSpec) -> None:
        super().check(spec)
        if ENCODERS[self.settings.model.encoder].takes != "table":
            raise UserError(
                f"data.source={self.settings.data.source!r} is a table: it needs "
                f"model.encoder=mlp, got {self.settings.model.encoder!r} "
                "(configs/tabular_scarf.yaml)"
            )

    def new_encoder(self) -> nn.Module:
        """An MLP sized for the table's numeric and categorical columns."""
        table = self.table
        return build_table_encoder(
            self.settings.model,
            num_numeric=len(table.numeric_names),
            cardinalities=table.cardinalities,
        )

    def _augment(self) -> Any:
        return build_table_augment(self.settings.augment, *self.table.train_rows)

    def training(self, spec: MethodSpec, log: Log) -> Training:
        """The training rows and their corruption (SCARF or VIME); logs the column types."""
        table = load_table_data(self.settings.data, log=log)
        self.__dict__["table"] = table  # read once: keep it for the encoder and evaluation
        numeric, codes = table.train_rows
        return Training(
            items=TensorItems(RowBatch(numeric=numeric, codes=codes)),
            views=self._augment(),
            name=table.name,
        )

    def evaluate(
        self, method: nn.Module, run_dir: Path, log: Log, *, budget_s: float | None = None
    ) -> dict[str, Any]:
        """The image suite's probes on the table, plus the `tabular` block of label budgets."""
        encoder = encoder_of(method)
        device = next(encoder.parameters()).device
        s = self.settings
        return evaluate_table(
            encoder,
            self.table,
            s.eval,
            augment=self._augment(),
            make_encoder=lambda: self.new_encoder().to(device),
            seed=s.seed,
            log=log,
        )

    @cached_property
    def encoding(self) -> TableEncoding:
        """The column encoding fitted on the training rows (for new rows)."""
        d = self.settings.data
        return TableEncoding.fit(
            read_table_source(d),
            test_fraction=d.test_fraction,
            seed=d.split_seed,
            label=d.label,
            id_column=d.id_column,
        )

    def embed(
        self, method: nn.Module, data: str, log: Log, options: EmbedOptions = EmbedOptions()
    ) -> Embedded:
        """'train' (the run's table, every row in the file's order, ids as `TableSplit.ids`:
        the id column's values or `NAME:K` for data row K from 1), or a CSV / Parquet file
        with the training columns, encoded as in training (ids `FILE:K`, or the id
        column's values: `options.id_column`, else the run's id column when the file has it).
        Each row is shown as its id and leading columns (`ID: name=value, ...`), so that
        a hit names the row wherever its id is not shown beside it (the service).

        Raises:
            UserError: the file's columns differ from training (missing and extra named).
        """
        if options.side != "inputs":
            raise UserError("--side texts: this is a table run; it embeds rows only")
        encoder = encoder_of(method)
        if data in (self.settings.data.source, "train"):
            table = self.table
            order = torch.from_numpy(
                np.argsort(np.concatenate([table.rows_train, table.rows_test]))
            )
            numeric = torch.cat([table.num_train, table.num_test])[order]
            codes = torch.cat([table.cat_train, table.cat_test])[order]
            return Embedded(
                embed_rows(encoder, numeric, codes),
                table.ids,
                table.name,
                shown=_with_ids(table.ids, table.shown),
            )
        rows = self.encoding.read(Path(data), id_column=options.id_column)
        for note in rows.notes:
            log(f"note: {note}")
        return Embedded(
            embed_rows(encoder, rows.numeric, rows.codes),
            rows.ids,
            Path(data).name,
            notes=rows.notes,
            info={"data": Path(data).name},
            shown=_with_ids(rows.ids, rows.shown),
        )

    def reference(self, method: nn.Module, log: Log) -> tuple[torch.Tensor, torch.Tensor]:
        """The training and test rows embedded."""
        table, encoder = self.table, encoder_of(method)
        return (
            embed_rows(encoder, table.num_train, table.cat_train),
            embed_rows(encoder, table.num_test, table.cat_test),
        )

    def query(self, method: nn.Module, query: str, info: dict[str, Any]) -> torch.Tensor:
        """One row: a one-row CSV file, or `'col=value,col=value'` with every training
        column. Shape: (1, D).

        Raises:
            UserError: not one row, or columns that differ from training.
        """
        with row_file(query, self.encoding.columns) as path:
            rows = self.encoding.read(path)
        if len(rows.ids) != 1:
            raise UserError(f"--query {query}: a table query is one row, got {len(rows.ids)}")
        return embed_rows(encoder_of(method), rows.numeric, rows.codes)

    def export_spec(self, method: nn.Module, *, max_items: int = 512) -> ExportSpec:
        """The MLP on (numeric, codes) with the imputation, scaling and vocabularies fitted
        on the training rows; the int8 cost as kNN top-1 of test rows against train rows."""
        s = self.settings.data
        raw = read_table_source(s)
        table = self.table
        n_train, n_test = min(max_items, len(table.y_train)), min(max_items, len(table.y_test))
        tower = ExportTower(
            folder="",
            module=TableRows(encoder_of(method)),
            example_inputs=(table.num_train[:8], table.cat_train[:8]),
            input_names=("numeric", "codes"),
            preprocess=fit_table_preprocess(
                raw, train_mask(raw, test_fraction=s.test_fraction, seed=s.split_seed)
            ),
        )
        quality = QualityTask(
            metric="knn_top1",
            query_tower="",
            queries=(table.num_test[:n_test], table.cat_test[:n_test]),
            candidate_tower="",
            candidates=(table.num_train[:n_train], table.cat_train[:n_train]),
            relevant=label_matches(table.y_test[:n_test], table.y_train[:n_train]),
        )
        return ExportSpec((tower,), quality)

    def report_examples(self, method: nn.Module, *, queries: int = 6, k: int = 5) -> Examples:
        """The first test row of each class (up to `queries`) and its `k` nearest other test
        rows by the trained encoder, each as its id, leading columns and class."""
        table = self.table
        z = embed_rows(encoder_of(method), table.num_test, table.cat_test)
        labels = table.y_test.numpy()
        picks = [int(np.flatnonzero(labels == c)[0]) for c in np.unique(labels)][:queries]
        (_, found), *_ = nearest_neighbours(z, z[picks], k=k + 1, chunk_size=len(z) + 1)
        found_rows = zip(picks, found.tolist(), strict=True)
        nearest = [[j for j in row if j != q][:k] for q, row in found_rows]

        def row(i: int) -> str:
            r = int(table.rows_test[i])
            return f"{table.ids[r]}: {table.shown[r]} ({table.class_names[labels[i]]})"

        return Examples(
            "Nearest rows (trained encoder, cosine, test split)",
            "Each query is the first test row of its class; its nearest test rows follow, "
            "nearest first, each as its id, leading columns and (class); a tick marks a row "
            "of the query's class.",
            [
                Example(row(q), [(row(int(j)), bool(labels[j] == labels[q])) for j in hits])
                for q, hits in zip(picks, nearest, strict=True)
            ],
        )

    def report_views(self, method: nn.Module) -> tuple[EmbeddingViews | None, str]:
        """The test rows embedded by the trained and by a random-init encoder."""
        table = self.table
        torch.manual_seed(self.settings.seed)
        random_encoder = self.new_encoder()
        return (
            EmbeddingViews(
                trained=embed_rows(encoder_of(method), table.num_test, table.cat_test).numpy(),
                random_init=embed_rows(random_encoder, table.num_test, table.cat_test).numpy(),
                labels=table.y_test.numpy(),
                class_names=list(table.class_names),
                images=None,
            ),
            "",
        )


def _with_ids(ids: list[str], shown: list[str]) -> list[str]:
    """Each row as `ID: leading columns`."""
    return [f"{i}: {text}" for i, text in zip(ids, shown, strict=True)]
