"""Interactions CSV reader (layout and errors) and the generator's known structure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from contrastkit.data.interactions import (
    generate_interactions,
    read_interactions_csv,
    write_interactions_csv,
)
from contrastkit.errors import UserError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "inter.csv"
    path.write_text(text)
    return path


def test_reads_ids_times_and_features(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "user,item,timestamp,price\nann,x,2024-01-02T00:00:00+00:00,1.5\nbob,y,5,2\nann,y,7,2\n",
    )
    data = read_interactions_csv(path)
    assert data.user_names == ["ann", "bob"] and data.item_names == ["x", "y"]
    assert data.users.tolist() == [0, 1, 0] and data.items.tolist() == [0, 1, 1]
    assert data.timestamps is not None and data.timestamps[0] == 1704153600.0
    assert data.item_features is not None and data.item_features.tolist() == [[1.5], [2.0]]
    assert data.feature_names == ["price"]


def test_without_timestamp_or_features(tmp_path: Path) -> None:
    data = read_interactions_csv(write(tmp_path, "user,item\n1,2\n1,3\n"))
    assert data.timestamps is None and data.item_features is None and len(data) == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("usr,item\n1,2\n", r"missing column\(s\) user \(the header has usr, item\)"),
        ("user,item,timestamp\n1,2,yesterday\n", r"inter.csv:2: column 'timestamp'"),
        (
            "user,item,w\n1,2,0.5\n1,2,0.7\n",
            r"inter.csv:3: item '2' has other feature values than on line 2",
        ),
        ("user,item,w\n1,2,heavy\n", r"inter.csv:2: feature column 'w': 'heavy'"),
        ("user,item\n1,\n", r"inter.csv:2: column 'item' is empty"),
        ("user,item\n1,2,3\n", r"inter.csv:2: 3 fields, the header has 2"),
        ("user,item\n", "no interactions"),
        ("", "empty file"),
    ],
)
def test_errors_name_file_line_and_column(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        read_interactions_csv(write(tmp_path, text))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such interactions file"):
        read_interactions_csv(tmp_path / "nope.csv")


def test_generator_structure_and_csv_round_trip(tmp_path: Path) -> None:
    gen = generate_interactions(50, 40, per_user=5, dim=4, n_features=6, seed=1)
    data = gen.data
    assert len(data) == 250 and data.item_features is not None
    assert data.item_features.shape == (40, 6) and gen.oracle.shape == (50, 40)
    # each user's items are distinct, timestamps increase in draw order
    for u in range(50):
        rows = data.users == u
        assert len(set(data.items[rows].tolist())) == 5
        assert data.timestamps is not None and np.all(np.diff(data.timestamps[rows]) == 1)
    # the oracle is taste . attributes / temperature + log popularity
    want = gen.user_taste @ gen.item_attributes.T / 0.1 + np.log(gen.popularity)
    np.testing.assert_allclose(gen.oracle, want, rtol=1e-5)
    # same seed, same data
    again = generate_interactions(50, 40, per_user=5, dim=4, n_features=6, seed=1)
    np.testing.assert_array_equal(again.data.items, data.items)
    path = tmp_path / "gen.csv"
    write_interactions_csv(path, data)
    back = read_interactions_csv(path)
    assert back.user_names == data.user_names[: back.n_users]
    np.testing.assert_array_equal(
        [back.item_names[i] for i in back.items], [data.item_names[i] for i in data.items]
    )
    assert back.item_features is not None
    same = [data.item_names.index(name) for name in back.item_names]
    np.testing.assert_allclose(back.item_features, data.item_features[same], atol=1e-5)


def test_popular_items_are_drawn_more() -> None:
    gen = generate_interactions(400, 100, per_user=10, zipf=1.2, seed=0)
    counts = np.bincount(gen.data.items, minlength=100)
    top = np.argsort(-gen.popularity)[:10]
    bottom = np.argsort(gen.popularity)[:50]
    assert counts[top].mean() > 3 * counts[bottom].mean()
