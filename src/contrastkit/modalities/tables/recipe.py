"""What a table run starts from when the config does not say: the SCARF recipe, and the
label and id columns guessed from the file's columns.

The recipe is `configs/tabular_scarf.yaml`'s method, encoder and schedule (SCARF, an MLP of
width 256, 100 epochs of batch 128 at lr 1e-3, 10 few-label draws); it applies when the
config names no method (`train --data my.csv`), key by key where the config is silent.
"""

from __future__ import annotations

import re

import numpy as np

from contrastkit.data.table import RawTable
from contrastkit.errors import UserError
from contrastkit.modalities.base import Fitted

TABLE_RECIPE = (
    ("method", {"name": "scarf", "temperature": 1.0}),
    ("model", {"encoder": "mlp", "width": 256}),
    ("augment", {"corruption": "scarf", "corruption_rate": 0.6}),
    ("train", {"epochs": 100, "batch_size": 128, "lr": 0.001, "warmup_epochs": 5}),
    ("eval", {"fewshot_draws": 10}),
)
"""(section, values) of the recipe, as in configs/tabular_scarf.yaml."""

LABEL_NAMES = ("label", "labels", "target", "class", "y")
"""Column names (any case) taken for the label when the config names none."""
MAX_CLASSES = 50
"""A column of 2 to this many distinct values is offered as a label when none is found."""
ID_NAME = re.compile(r"^(id|.*[_ -]id|.*Id|.*ID)$")
"""Names of integer columns that may be a row id (`id`, `customer_id`, `userId`)."""


def table_recipe(name: str) -> list[Fitted]:
    """The recipe's choices for the table called `name`."""
    return [
        Fitted(section, values, f"a table ({name})", recipe=True)  # type: ignore[arg-type]
        for section, values in TABLE_RECIPE
    ]


def guess_label(raw: RawTable) -> Fitted | None:
    """`data.label` for a column named like a label (`LABEL_NAMES`), or None."""
    columns = {name.lower(): name for name in [*raw.numeric, *raw.categorical]}
    for candidate in LABEL_NAMES:
        if candidate in columns:
            name = columns[candidate]
            return Fitted(
                "data", {"label": name}, "its name (the label: evaluation only, not a feature)"
            )
    return None


def no_label(raw: RawTable, path: str) -> UserError:
    """The one-line refusal of a table without a label column: the columns that could be
    one (text or integer columns of 2 to `MAX_CLASSES` values, some repeated) named for
    --label."""
    offered = []
    for name, values in [*raw.categorical.items(), *raw.numeric.items()]:
        present = [v for v in values.tolist() if v is not None and v == v]  # NaN != NaN
        whole = all(isinstance(v, str) or float(v).is_integer() for v in present)
        distinct = len(set(present))
        if whole and 2 <= distinct <= min(MAX_CLASSES, len(present) - 1):
            offered.append(f"{name} ({distinct} values)")
    hint = f"; columns that could be: {', '.join(offered[:5])}" if offered else ""
    return UserError(
        f"{path}: no label column (none is named {', '.join(LABEL_NAMES)}): name the column "
        f"to evaluate on with --label COLUMN (training does not use it){hint}"
    )


def guess_id_column(raw: RawTable, *, label: str | None) -> Fitted | None:
    """`data.id_column` for the first column whose values are all present and all distinct:
    a text column, or an integer column named like an id (`ID_NAME`); None when none is."""
    n = raw.num_rows
    for name, values in raw.categorical.items():
        if name != label and n > 1 and None not in values and len(set(values)) == n:
            return _id_choice(name, n)
    for name, values in raw.numeric.items():
        whole = not np.isnan(values).any() and bool(np.all(values == np.round(values)))
        named = name != label and ID_NAME.match(name) is not None
        if named and n > 1 and whole and len(np.unique(values)) == n:
            return _id_choice(name, n)
    return None


def _id_choice(name: str, n: int) -> Fitted:
    return Fitted(
        "data",
        {"id_column": name},
        f"its {n} values, all distinct (a row id: it names the rows and is not a feature)",
    )
