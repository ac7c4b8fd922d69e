"""CSV / Parquet / bundled readers: inferred types, missing values, and every bad input."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from contrastkit.data.table import bundled_table, read_table
from contrastkit.errors import UserError

read_csv_table = partial(read_table, kind="csv")
read_parquet_table = partial(read_table, kind="parquet")

GOOD_CSV = """age,city,income,zip,label
34,paris,1200.5,75001,yes
,lyon,980,69001,no
51,NA,,75002,yes
29,paris,1500,75001,no
"""


def write(tmp_path: Path, text: str, name: str = "t.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_csv_types_missing_and_label(tmp_path: Path) -> None:
    table = read_csv_table(write(tmp_path, GOOD_CSV), label="label")
    assert list(table.numeric) == ["age", "income", "zip"]
    assert list(table.categorical) == ["city"]
    np.testing.assert_array_equal(table.numeric["age"], [34.0, np.nan, 51.0, 29.0])
    np.testing.assert_array_equal(table.numeric["income"], [1200.5, 980.0, np.nan, 1500.0])
    assert table.categorical["city"].tolist() == ["paris", "lyon", None, "paris"]
    assert table.labels is not None and table.labels.tolist() == ["yes", "no", "yes", "no"]
    assert table.name == "t" and table.num_rows == 4


def test_forced_categorical(tmp_path: Path) -> None:
    table = read_csv_table(write(tmp_path, GOOD_CSV), label="label", categorical_columns=["zip"])
    assert list(table.categorical) == ["city", "zip"]
    assert table.categorical["zip"].tolist() == ["75001", "69001", "75002", "75001"]


def test_parquet_matches_csv(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "age": [34.0, None, 51.0, 29.0],
            "city": ["paris", "lyon", None, "paris"],
            "income": [1200.5, 980.0, None, 1500.0],
            "zip": [75001, 69001, 75002, 75001],
            "label": ["yes", "no", "yes", "no"],
        }
    )
    path = tmp_path / "t.parquet"
    frame.to_parquet(path)
    parquet = read_parquet_table(path, label="label")
    csv = read_csv_table(write(tmp_path, GOOD_CSV), label="label")
    assert list(parquet.numeric) == list(csv.numeric)
    for name in csv.numeric:
        np.testing.assert_array_equal(parquet.numeric[name], csv.numeric[name])
    assert parquet.categorical["city"].tolist() == csv.categorical["city"].tolist()
    assert parquet.labels is not None and csv.labels is not None
    assert parquet.labels.tolist() == csv.labels.tolist()


@pytest.mark.parametrize(
    ("name", "rows", "cols", "classes"),
    [("breast_cancer", 569, 30, 2), ("wine", 178, 13, 3), ("iris", 150, 4, 3)],
)
def test_bundled_tables(name: str, rows: int, cols: int, classes: int) -> None:
    table = bundled_table(name)
    assert table.num_rows == rows and len(table.numeric) == cols and not table.categorical
    assert table.labels is not None and len(set(table.labels.tolist())) == classes


def test_digits_as_64_columns() -> None:
    from sklearn.datasets import load_digits

    table = bundled_table("digits_table")
    assert len(table.numeric) == 64 and table.num_rows == 1797
    np.testing.assert_array_equal(table.numeric["pixel_2_3"], load_digits().data[:, 2 * 8 + 3])


# Bad input: each message names the file, the line (CSV) / row (Parquet) and the column.


def error_of(call: object, *args: object, **kwargs: object) -> str:
    with pytest.raises(UserError) as info:
        call(*args, **kwargs)  # type: ignore[operator]
    return str(info.value)


def test_ragged_row(tmp_path: Path) -> None:
    path = write(tmp_path, "a,b,c\n1,2,3\n4,5\n6,7,8\n")
    msg = error_of(read_csv_table, path)
    assert str(path) in msg and "line 3" in msg and "2 fields" in msg and "3 columns" in msg


def test_text_in_numeric_column(tmp_path: Path) -> None:
    rows = "".join(f"{i},{i * 1.5}\n" for i in range(20))
    path = write(tmp_path, "id,x\n" + rows + "20,abc\n21,3\n")
    msg = error_of(read_csv_table, path)
    assert str(path) in msg and "line 22" in msg and "'x'" in msg and "'abc'" in msg


def test_all_empty_column(tmp_path: Path) -> None:
    path = write(tmp_path, "a,b,c\n1,,x\n2,NA,y\n3,,z\n")
    msg = error_of(read_csv_table, path)
    assert str(path) in msg and "'b'" in msg and "empty in all 3 rows" in msg


def test_missing_label_column(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD_CSV)
    msg = error_of(read_csv_table, path, label="lable")
    assert str(path) in msg and "'lable' not found" in msg and "did you mean 'label'" in msg


def test_empty_label_cell(tmp_path: Path) -> None:
    path = write(tmp_path, "a,y\n1,u\n2,\n3,v\n")
    msg = error_of(read_csv_table, path, label="y")
    assert str(path) in msg and "line 3" in msg and "'y'" in msg


def test_invalid_utf8(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(b"a,b\n1,x\n2,\xff\xfe\n")
    msg = error_of(read_csv_table, path)
    assert str(path) in msg and "line 3" in msg and "UTF-8" in msg


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", "empty file"), ("a,b\n", "no data rows"), ("a,a\n1,2\n", "duplicate column name 'a'")],
)
def test_empty_or_headless(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in error_of(read_csv_table, write(tmp_path, text))


def test_unknown_categorical_column(tmp_path: Path) -> None:
    msg = error_of(read_csv_table, write(tmp_path, GOOD_CSV), categorical_columns=["town"])
    assert "'town'" in msg and "city" in msg


def test_missing_files(tmp_path: Path) -> None:
    assert "no such CSV file" in error_of(read_csv_table, tmp_path / "nope.csv")
    assert "no such Parquet file" in error_of(read_parquet_table, tmp_path / "nope.parquet")
    junk = write(tmp_path, "not parquet", "junk.parquet")
    assert "not a readable Parquet file" in error_of(read_parquet_table, junk)


def test_parquet_bad_input_names_row_and_column(tmp_path: Path) -> None:
    values = [str(i) for i in range(20)] + ["oops"]
    path = tmp_path / "t.parquet"
    pd.DataFrame({"x": values, "empty": [None] * 21, "y": ["a", "b"] * 10 + ["a"]}).to_parquet(path)
    msg = error_of(read_parquet_table, path, label="y")
    assert str(path) in msg and "row 21" in msg and "'x'" in msg and "'oops'" in msg
    pd.DataFrame({"x": [1.0, 2.0], "empty": [None, None], "y": ["a", "b"]}).to_parquet(path)
    msg = error_of(read_parquet_table, path, label="y")
    assert "'empty'" in msg and "empty in all 2 rows" in msg
    pd.DataFrame({"x": [1.0, 2.0], "y": ["a", "b"]}).to_parquet(path)
    assert "'label' not found" in error_of(read_parquet_table, path, label="label")
    # a misnamed column is reported before any cell is read, even one that is bad
    pd.DataFrame({"x": [1.0, float("inf")], "y": ["a", "b"]}).to_parquet(path)
    assert "'label' not found" in error_of(read_parquet_table, path, label="label")
