"""New table rows are encoded exactly as the training rows were (fit on the training split)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from contrastkit.data.table import RawTable, bundled_table, read_table
from contrastkit.data.table_split import preprocess
from contrastkit.errors import UserError
from contrastkit.modalities.tables.encoding import TableEncoding
from contrastkit.modalities.tables.row_query import parse_row, row_file


def _mixed() -> RawTable:
    rng = np.random.default_rng(0)
    n = 40
    age = rng.normal(40, 10, n)
    age[3] = np.nan
    city = np.array([["paris", "rome", "oslo"][i % 3] for i in range(n)], dtype=object)
    city[5] = None
    labels = np.array(["a", "b"] * (n // 2), dtype=object)
    return RawTable(numeric={"age": age}, categorical={"city": city}, labels=labels, name="t")


@pytest.mark.parametrize("raw", [bundled_table("wine"), _mixed()], ids=["wine", "mixed"])
def test_encoding_the_training_table_gives_the_training_rows(raw: RawTable) -> None:
    split = preprocess(raw, test_fraction=0.3, seed=1)
    enc = TableEncoding.fit(raw, test_fraction=0.3, seed=1, label=None)
    num, codes, _ = enc.encode(raw, where="t")
    both_num = torch.cat([split.num_train, split.num_test])
    both_cat = torch.cat([split.cat_train, split.cat_test])
    # the same rows, in another order: match them up as sets of rows
    order = lambda x: x[np.lexsort(x.T[::-1])]  # noqa: E731
    got = np.hstack([num.numpy(), codes.numpy()])
    want = np.hstack([both_num.numpy(), both_cat.numpy()])
    np.testing.assert_array_equal(order(got), order(want))


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_new_rows_unseen_category_and_missing_values_are_noted(tmp_path: Path) -> None:
    raw = _mixed()
    enc = TableEncoding.fit(raw, test_fraction=0.3, seed=1, label="y")
    csv = _write(tmp_path / "new.csv", "city,age,y\nparis,40,a\nlima,,b\n,30,a\n")
    rows = enc.read(csv)
    assert rows.ids == ["new.csv:1", "new.csv:2", "new.csv:3"]
    fit = enc.numeric["age"]
    assert rows.numeric[0, 0].item() == pytest.approx((40 - fit.mean) / fit.std, rel=1e-6)
    assert rows.numeric[1, 0].item() == pytest.approx((fit.median - fit.mean) / fit.std, rel=1e-6)
    assert rows.codes[:, 0].tolist() == [enc.vocab["city"].index("paris") + 1, 0, 0]
    text = " ".join(rows.notes)
    assert "'age': 1 missing" in text and "'lima'" in text and "'city': 1 missing" in text


def test_id_column_and_columns_that_differ(tmp_path: Path) -> None:
    enc = TableEncoding.fit(_mixed(), test_fraction=0.3, seed=1, label=None)
    csv = _write(tmp_path / "ids.csv", "key,age,city\nk7,41,rome\nk9,39,oslo\n")
    assert enc.read(csv, id_column="key").ids == ["k7", "k9"]
    with pytest.raises(UserError, match=r"missing city; extra height"):
        enc.read(_write(tmp_path / "bad.csv", "age,height\n1,2\n"))
    with pytest.raises(UserError, match="--id-column 'nope' is not a column"):
        enc.read(csv, id_column="nope")
    with pytest.raises(UserError, match="'age' must hold numbers"):
        enc.read(_write(tmp_path / "txt.csv", "age,city\nold,rome\n"))


def test_row_query_parses_into_a_one_row_csv() -> None:
    assert parse_row("a=1, b = x ,c=") == {"a": "1", "b": "x", "c": ""}
    with pytest.raises(UserError, match="given twice"):
        parse_row("a=1,a=2")
    with pytest.raises(UserError, match="column=value"):
        parse_row("a=1,b")
    with row_file("age=30,city=rome", ["age", "city"]) as path:
        raw = read_table(path, "csv", categorical_columns=["city"])
        assert raw.numeric["age"].tolist() == [30.0] and raw.categorical["city"].tolist() == [
            "rome"
        ]
    with pytest.raises(UserError, match="one-row CSV file or --row"), row_file("t", ["age"]):
        pass
