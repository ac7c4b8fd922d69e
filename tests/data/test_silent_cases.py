"""Inputs that used to be read wrongly without a word now give the right numbers or a note."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from tests.data.images import save, shape_image

from contrastkit.data.arrays import read_arrays
from contrastkit.data.folder import scan_folder
from contrastkit.data.table_split import _numeric


def test_huge_table_values_are_standardised_not_zeroed() -> None:
    values = np.array([1e300, -1e300, 1e300, -1e300])
    out = _numeric(values, np.arange(4))
    assert out.tolist() == [1.0, -1.0, 1.0, -1.0]


def test_sparse_npz_labels_are_relabelled_with_a_note(tmp_path: Path) -> None:
    path = tmp_path / "x.npz"
    np.savez(path, x=np.zeros((4, 8, 8), np.uint8), y=np.array([0, 7, 10**12, 7]))
    data = read_arrays(path)
    assert not isinstance(data, tuple)
    assert data.labels.tolist() == [0, 1, 2, 1]
    assert data.class_names == ["0", "7", str(10**12)]
    assert data.notes == [f"{path}[y]: labels 0, 7, {10**12} relabelled 0..2"]


def test_split_npz_relabels_train_and_test_alike(tmp_path: Path) -> None:
    path = tmp_path / "x.npz"
    x = np.zeros((2, 8, 8), np.uint8)
    np.savez(path, x_train=x, y_train=np.array([30, 90]), x_test=x, y_test=np.array([90, 60]))
    train, test = read_arrays(path)  # type: ignore[misc]
    assert train.labels.tolist() == [0, 2] and test.labels.tolist() == [2, 1]


def test_broken_symlinks_are_named_in_a_note(tmp_path: Path) -> None:
    for c in ("a", "b"):
        save(tmp_path / c / "0.png", shape_image(0))
    (tmp_path / "a" / "gone.png").symlink_to(tmp_path / "nowhere.png")
    layout = scan_folder(tmp_path)
    assert len(layout.files) == 2
    assert layout.notes == [
        f"1 symbolic link(s) skipped: broken, or to a folder (not followed); first: "
        f"{tmp_path / 'a' / 'gone.png'}"
    ]
