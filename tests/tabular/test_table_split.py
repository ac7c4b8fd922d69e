"""Preprocessing: imputation and standardisation fitted on training rows, category codes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.model_selection import train_test_split

from contrastkit.config import DataConfig
from contrastkit.data.table import RawTable
from contrastkit.data.table_split import describe_table, preprocess
from contrastkit.errors import UserError
from contrastkit.modalities.tables.sources import load_table_data


def make_raw() -> RawTable:
    n = 40
    rng = np.random.default_rng(0)
    x = rng.normal(5.0, 2.0, n)
    x[[3, 17]] = np.nan
    city = np.array([["a", "b", "c"][i % 3] for i in range(n)], dtype=object)
    city[[5, 8]] = None
    return RawTable(
        numeric={"x": x, "const": np.full(n, 7.0)},
        categorical={"city": city},
        labels=np.array(["p", "q"] * (n // 2), dtype=object),
        name="toy",
    )


def reference_indices(raw: RawTable, test_fraction: float, seed: int) -> tuple[np.ndarray, ...]:
    """The split `preprocess` must use: stratified on the sorted class names."""
    assert raw.labels is not None
    names = sorted(set(raw.labels.tolist()))
    y = np.array([names.index(v) for v in raw.labels])
    idx_train, idx_test = train_test_split(
        np.arange(len(y)), test_size=test_fraction, random_state=seed, stratify=y
    )
    return idx_train, idx_test, y


def test_numeric_columns_against_numpy_reference() -> None:
    raw = make_raw()
    split = preprocess(raw, test_fraction=0.25, seed=0)
    idx_train, idx_test, y = reference_indices(raw, 0.25, 0)
    x = raw.numeric["x"]
    median = np.nanmedian(x[idx_train])
    filled = np.where(np.isnan(x), median, x)
    expected = (filled - filled[idx_train].mean()) / filled[idx_train].std()
    np.testing.assert_allclose(split.num_train[:, 0].numpy(), expected[idx_train], rtol=1e-5)
    np.testing.assert_allclose(split.num_test[:, 0].numpy(), expected[idx_test], rtol=1e-5)
    # A constant column has std 0: it becomes 0 everywhere instead of NaN.
    assert torch.all(split.num_train[:, 1] == 0) and torch.all(split.num_test[:, 1] == 0)
    np.testing.assert_array_equal(split.y_train.numpy(), y[idx_train])
    np.testing.assert_array_equal(split.y_test.numpy(), y[idx_test])
    assert split.class_names == ["p", "q"] and split.missing == {"x": 2, "city": 2}


def test_category_codes_missing_and_unseen_are_zero() -> None:
    raw = make_raw()
    idx_train, idx_test, _ = reference_indices(raw, 0.25, 0)  # the split ignores features
    city = raw.categorical["city"]
    city[idx_test[0]] = "only_in_test"
    split = preprocess(raw, test_fraction=0.25, seed=0)
    vocab = sorted({v for v in city[idx_train] if v is not None})
    expected = np.array([vocab.index(v) + 1 if v in vocab else 0 for v in city])
    np.testing.assert_array_equal(split.cat_train[:, 0].numpy(), expected[idx_train])
    np.testing.assert_array_equal(split.cat_test[:, 0].numpy(), expected[idx_test])
    assert split.cat_train.dtype == torch.int64 and split.cardinalities == [len(vocab) + 1]
    assert expected[idx_test[0]] == 0 and (expected == 0).sum() == 3  # + 2 missing cells


def test_describe_prints_types_and_imputed_counts() -> None:
    lines = describe_table(preprocess(make_raw(), test_fraction=0.25, seed=0))
    text = "\n".join(lines)
    assert "2 numeric + 1 categorical" in text and "city (3 categories)" in text
    assert "x 2" in text and "city 2" in text


def test_load_from_config(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("a,b,y\n" + "".join(f"{i},{'uv'[i % 2]},{i % 2}\n" for i in range(20)))
    logged: list[str] = []
    split = load_table_data(DataConfig(source="csv", path=str(path), label="y"), log=logged.append)
    assert split.numeric_names == ["a"] and split.categorical_names == ["b"]
    assert "1 numeric + 1 categorical" in logged[0]
    with pytest.raises(UserError, match="no label column"):
        load_table_data(DataConfig(source="csv", path=str(path)))
    with pytest.raises(UserError, match="needs data.path"):
        load_table_data(DataConfig(source="csv"))
