"""User-item interactions: a CSV reader and a generator with a known latent structure.

No real interaction data ships with contrastkit (nothing is downloaded), so tests, the
benchmark and the docs use `generate_interactions`: data *generated* from users' taste
vectors, item attribute vectors (with item features derived from them) and a Zipf-like
popularity skew, returned with the generator's own preference scores (the oracle) so that a
model can be compared with the best possible ranking.

CSV layout: one interaction per row with a header; columns `user` and `item` (any strings),
optional `timestamp` (a number or an ISO 8601 date-time) and optional numeric item-feature
columns (constant per item). Bad input raises `UserError` naming the file, the line
(header = line 1) and the column.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import numpy as np

from contrastkit.atomic import write_text_atomic
from contrastkit.errors import UserError

T = TypeVar("T")


@dataclass(frozen=True)
class Interactions:
    """Interactions with users and items numbered 0..n-1.

    Attributes:
        users: Shape: (N,), int64 user codes.
        items: Shape: (N,), int64 item codes.
        timestamps: Shape: (N,), float64 (seconds or the CSV's numbers), or None (then the
            row order is the time order).
        user_names: The original id of each user code.
        item_names: The original id of each item code.
        item_features: Shape: (n_items, F), float32, or None without feature columns.
        feature_names: The F feature column names.
        name: What the data is called in metrics and reports.
    """

    users: np.ndarray
    items: np.ndarray
    timestamps: np.ndarray | None
    user_names: list[str]
    item_names: list[str]
    item_features: np.ndarray | None
    feature_names: list[str]
    name: str

    @property
    def n_users(self) -> int:
        return len(self.user_names)

    @property
    def n_items(self) -> int:
        return len(self.item_names)

    def __len__(self) -> int:
        return len(self.users)


@dataclass(frozen=True)
class GeneratedInteractions:
    """`generate_interactions`' output: the data and the structure it was drawn from.

    Attributes:
        data: The interactions (timestamps = the order each user's items were drawn).
        oracle: Shape: (n_users, n_items), float32, the generator's preference logits
            ``u_i . a_j / temperature + log pop_j`` (a larger score = more likely).
        user_taste: Shape: (n_users, d), unit rows.
        item_attributes: Shape: (n_items, d), unit rows.
        popularity: Shape: (n_items,), sums to 1.
    """

    data: Interactions
    oracle: np.ndarray
    user_taste: np.ndarray
    item_attributes: np.ndarray
    popularity: np.ndarray


def _unit_rows(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def generate_interactions(
    n_users: int,
    n_items: int,
    *,
    per_user: int = 20,
    dim: int = 8,
    n_features: int = 16,
    zipf: float = 1.0,
    temperature: float = 0.1,
    feature_noise: float = 0.1,
    seed: int = 0,
) -> GeneratedInteractions:
    """Generated interactions with a known latent structure (no real data ships offline).

    * user taste ``u_i`` and item attributes ``a_j``: unit vectors in R^dim, uniform;
    * item features ``f_j = tanh(a_j W) + feature_noise * eps`` with a fixed random
      ``W`` (dim x n_features), so features carry the attributes (cold start);
    * popularity ``pop_j ∝ 1 / r_j^zipf`` for a random rank r_j of each item;
    * user i draws `per_user` distinct items from ``softmax(u_i . a_j / temperature +
      log pop_j)`` (without replacement, Gumbel top-k); timestamps 0, 1, ... in draw order
      plus the user's offset, so the last drawn item is the latest.

    Args:
        n_users, n_items: Sizes (per_user < n_items).
        per_user: Interactions per user.
        dim: Size of the latent space.
        n_features: Item feature columns.
        zipf: Popularity exponent (0 = uniform).
        temperature: Sharpness of taste (> 0; smaller = users stick to their taste).
        feature_noise: Std of the noise added to the item features.
        seed: Seeds everything.

    Returns:
        The data, the oracle scores and the latent vectors.
    """
    if n_users < 1 or n_items < 2 or not 1 <= per_user < n_items:
        raise ValueError(
            f"need n_users >= 1, n_items >= 2 and 1 <= per_user < n_items, got "
            f"{n_users}, {n_items}, {per_user}"
        )
    if dim < 1 or n_features < 0 or zipf < 0 or temperature <= 0 or feature_noise < 0:
        raise ValueError("need dim >= 1, n_features >= 0, zipf >= 0, temperature > 0, noise >= 0")
    rng = np.random.default_rng(seed)
    taste = _unit_rows(rng.standard_normal((n_users, dim)))
    attrs = _unit_rows(rng.standard_normal((n_items, dim)))
    w = rng.standard_normal((dim, n_features)) * math.sqrt(dim)
    features = np.tanh(attrs @ w) + feature_noise * rng.standard_normal((n_items, n_features))
    pop = 1.0 / (rng.permutation(n_items) + 1.0) ** zipf
    pop /= pop.sum()
    oracle = (taste @ attrs.T / temperature + np.log(pop)[None, :]).astype(np.float32)
    gumbel = rng.gumbel(size=oracle.shape)
    drawn = np.argsort(-(oracle + gumbel), axis=1)[:, :per_user]  # (U, per_user) in order
    users = np.repeat(np.arange(n_users), per_user)
    offsets = np.repeat(rng.uniform(0, 1000, n_users), per_user)
    times = offsets + np.tile(np.arange(per_user, dtype=np.float64), n_users)
    data = Interactions(
        users=users.astype(np.int64),
        items=drawn.reshape(-1).astype(np.int64),
        timestamps=times,
        user_names=[f"u{i}" for i in range(n_users)],
        item_names=[f"i{j}" for j in range(n_items)],
        item_features=features.astype(np.float32) if n_features else None,
        feature_names=[f"f{k}" for k in range(n_features)],
        name=f"generated({n_users}x{n_items}, seed {seed})",
    )
    return GeneratedInteractions(data, oracle, taste, attrs, pop)


def write_interactions_csv(path: Path, data: Interactions) -> None:
    """Write `data` in the CSV layout `read_interactions_csv` reads (atomically)."""
    header = ["user", "item"] + (["timestamp"] if data.timestamps is not None else [])
    header += data.feature_names
    lines = [",".join(header)]
    for n in range(len(data)):
        row = [data.user_names[data.users[n]], data.item_names[data.items[n]]]
        if data.timestamps is not None:
            row.append(repr(float(data.timestamps[n])))
        if data.item_features is not None:
            row += [f"{v:.6g}" for v in data.item_features[data.items[n]]]
        lines.append(",".join(row))
    write_text_atomic(path, "\n".join(lines) + "\n")


def _timestamp(cell: str, where: str) -> float:
    try:
        value = float(cell)
    except ValueError:
        try:
            return datetime.fromisoformat(cell).timestamp()
        except ValueError:
            raise UserError(
                f"{where}: column 'timestamp': {cell!r} is neither a number nor an ISO 8601 "
                "date-time"
            ) from None
    if not math.isfinite(value):
        raise UserError(f"{where}: column 'timestamp': {cell!r} is not finite")
    return value


def _decoding(path: Path, read: Callable[[], T]) -> T:
    """`read()`, with a file that is not UTF-8 text or not CSV as a `UserError`."""
    try:
        return read()
    except UnicodeDecodeError as err:
        raise UserError(
            f"{path}: not UTF-8 text (byte {err.start}: {err.reason}); save the CSV as UTF-8"
        ) from None
    except csv.Error as err:
        raise UserError(f"{path}: not a readable CSV ({err})") from None


def read_interactions_csv(
    path: Path,
    *,
    user_column: str = "user",
    item_column: str = "item",
    timestamp_column: str = "timestamp",
    feature_columns: list[str] | None = None,
) -> Interactions:
    """Read an interactions CSV (see the module docstring).

    Args:
        path: The CSV file.
        user_column, item_column: Required id columns.
        timestamp_column: Used when present.
        feature_columns: Item-feature columns; None = every other column.

    Raises:
        UserError: No such file, not UTF-8 or not CSV, missing columns (named, with the
            ones present), an empty id, a bad timestamp or feature value, an item whose
            features differ between rows, or no rows.
    """
    return _decoding(
        path,
        lambda: _read_interactions(
            path,
            user_column=user_column,
            item_column=item_column,
            timestamp_column=timestamp_column,
            feature_columns=feature_columns,
        ),
    )


def _read_interactions(
    path: Path,
    *,
    user_column: str,
    item_column: str,
    timestamp_column: str,
    feature_columns: list[str] | None,
) -> Interactions:
    """The reader behind `read_interactions_csv` (its defaults; no decoding guard)."""
    if not path.is_file():
        raise UserError(f"{path}: no such interactions file")
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise UserError(f"{path}: empty file (expected a header with user,item)")
        header = [h.strip() for h in header]
        wanted = [user_column, item_column] + list(feature_columns or [])
        missing = [c for c in wanted if c not in header]
        if missing:
            raise UserError(
                f"{path}: missing column(s) {', '.join(missing)} (the header has "
                f"{', '.join(header)})"
            )
        col = {name: n for n, name in enumerate(header)}
        has_time = timestamp_column in col
        used = {user_column, item_column, timestamp_column}
        feats = (
            feature_columns if feature_columns is not None else [h for h in header if h not in used]
        )
        users: list[int] = []
        items: list[int] = []
        times: list[float] = []
        user_code: dict[str, int] = {}
        item_code: dict[str, int] = {}
        item_feats: list[list[float]] = []
        item_line: list[int] = []
        for line, where, row in _records(reader, len(header), path):
            user, item = row[col[user_column]].strip(), row[col[item_column]].strip()
            for name, value in ((user_column, user), (item_column, item)):
                if not value:
                    raise UserError(f"{where}: column {name!r} is empty")
            values = _feature_values(row, col, feats, where)
            if item not in item_code:
                item_code[item] = len(item_code)
                item_feats.append(values)
                item_line.append(line)
            elif values != item_feats[item_code[item]]:
                raise UserError(
                    f"{where}: item {item!r} has other feature values than on line "
                    f"{item_line[item_code[item]]} (features must be constant per item)"
                )
            users.append(user_code.setdefault(user, len(user_code)))
            items.append(item_code[item])
            if has_time:
                times.append(_timestamp(row[col[timestamp_column]].strip(), where))
    if not users:
        raise UserError(f"{path}: no interactions (only a header)")
    return Interactions(
        users=np.asarray(users, dtype=np.int64),
        items=np.asarray(items, dtype=np.int64),
        timestamps=np.asarray(times, dtype=np.float64) if has_time else None,
        user_names=list(user_code),
        item_names=list(item_code),
        item_features=np.asarray(item_feats, dtype=np.float32) if feats else None,
        feature_names=list(feats),
        name=path.name,
    )


def read_item_features_csv(
    path: Path, feature_names: list[str], *, item_column: str = "item"
) -> tuple[list[str], np.ndarray]:
    """Items and their features, one item per row (cold start: items scored by features).

    Args:
        path: A CSV with a header holding `item_column` and every name in `feature_names`
            (other columns are ignored).
        feature_names: The feature columns the run was trained with, in that order.

    Returns:
        The item ids in file order and their features, Shape: (N, F) float32.

    Raises:
        UserError: No such file, not UTF-8 or not CSV, a missing column (named, with the
            ones present), an empty id, a repeated item, a feature value that is not a
            finite number, or no rows.
    """
    return _decoding(
        path, lambda: _read_item_features(path, feature_names, item_column=item_column)
    )


def _read_item_features(
    path: Path, feature_names: list[str], *, item_column: str
) -> tuple[list[str], np.ndarray]:
    """The reader behind the public function above (no decoding guard)."""
    if not path.is_file():
        raise UserError(f"{path}: no such item-features file")
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        header = [h.strip() for h in next(reader, None) or []]
        if not header:
            raise UserError(f"{path}: empty file (expected a header with {item_column})")
        missing = [c for c in [item_column, *feature_names] if c not in header]
        if missing:
            raise UserError(
                f"{path}: missing column(s) {', '.join(missing)} (the header has "
                f"{', '.join(header)}; the run was trained with item features "
                f"{', '.join(feature_names) or 'none'})"
            )
        col = {name: n for n, name in enumerate(header)}
        names: list[str] = []
        rows: list[list[float]] = []
        first: dict[str, int] = {}
        for line, where, row in _records(reader, len(header), path):
            item = row[col[item_column]].strip()
            if not item:
                raise UserError(f"{where}: column {item_column!r} is empty")
            if item in first:
                raise UserError(f"{where}: item {item!r} is already on line {first[item]}")
            first[item] = line
            names.append(item)
            rows.append(_feature_values(row, col, feature_names, where))
    if not names:
        raise UserError(f"{path}: no items (only a header)")
    return names, np.asarray(rows, dtype=np.float32).reshape(len(names), len(feature_names))


def _records(
    reader: Iterable[list[str]], fields: int, path: Path
) -> Iterator[tuple[int, str, list[str]]]:
    """The rows after a CSV's header as (line number, "path:line", cells), blank rows left
    out; a row of other than `fields` cells is refused (UserError naming the line)."""
    for line, row in enumerate(reader, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        where = f"{path}:{line}"
        if len(row) != fields:
            raise UserError(f"{where}: {len(row)} fields, the header has {fields}")
        yield line, where, row


def _feature_values(
    row: list[str], col: dict[str, int], names: list[str], where: str
) -> list[float]:
    """The cells of the feature columns `names` as numbers (UserError naming the line, the
    column and the cell when one is not a finite number)."""
    values = []
    for name in names:
        cell = row[col[name]].strip()
        try:
            value = float(cell)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise UserError(f"{where}: feature column {name!r}: {cell!r} is not a finite number")
        values.append(value)
    return values
