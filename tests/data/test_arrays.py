"""NPY/NPZ images: layouts, dtypes, given splits, and clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from contrastkit.data.arrays import read_arrays
from contrastkit.data.imageset import to_nchw_uint8
from contrastkit.errors import UserError

RNG = np.random.default_rng(0)


def test_layouts_and_dtypes_become_uint8_nchw() -> None:
    nchw = RNG.integers(0, 256, (5, 3, 4, 6), dtype=np.uint8)
    np.testing.assert_array_equal(to_nchw_uint8(nchw, "x"), nchw)
    np.testing.assert_array_equal(to_nchw_uint8(nchw.transpose(0, 2, 3, 1), "x"), nchw)
    np.testing.assert_array_equal(to_nchw_uint8(nchw[:, 0], "x"), nchw[:, :1])
    np.testing.assert_array_equal(to_nchw_uint8(nchw / 255.0, "x"), nchw)
    np.testing.assert_array_equal(to_nchw_uint8(nchw.astype(np.uint16) * 257, "x"), nchw)
    rgba = np.concatenate([nchw, np.zeros((5, 1, 4, 6), np.uint8)], axis=1)
    np.testing.assert_array_equal(to_nchw_uint8(rgba, "x"), nchw)


@pytest.mark.parametrize(
    ("array", "match"),
    [
        (np.zeros((2, 5, 4, 6), np.uint8), "expected 1, 3 or 4 channels"),
        (np.full((2, 4, 4), 2.0), r"floats? images must lie in \[0, 1\]"),
        (np.zeros((2, 4), np.uint8), "expected images"),
        (np.full((2, 4, 4), -3, np.int32), "expected uint8"),
    ],
)
def test_bad_arrays_are_named(array: np.ndarray, match: str) -> None:
    with pytest.raises(UserError, match=f"file.npz\\[x\\]: {match}"):
        to_nchw_uint8(array, "file.npz[x]")


def test_npz_with_labels_and_class_names(tmp_path: Path) -> None:
    x = RNG.integers(0, 256, (6, 8, 8), dtype=np.uint8)
    np.savez(
        tmp_path / "d.npz",
        x=x,
        y=np.array([0, 1, 2, 0, 1, 2]),
        class_names=np.array(["a", "b", "c"]),
    )
    data = read_arrays(tmp_path / "d.npz")
    assert not isinstance(data, tuple)
    assert data.class_names == ["a", "b", "c"] and data.labels.tolist() == [0, 1, 2, 0, 1, 2]
    np.testing.assert_array_equal(data.images[:, 0].numpy(), x)
    assert data.paths[2].endswith("d.npz[x][2]")


def test_npz_with_a_given_split_and_npy_unlabeled(tmp_path: Path) -> None:
    x = RNG.integers(0, 256, (4, 3, 5, 5), dtype=np.uint8)
    np.savez(
        tmp_path / "s.npz",
        x_train=x,
        y_train=np.array([0, 1, 0, 1]),
        x_test=x[:2],
        y_test=np.array([1, 0]),
    )
    train, test = read_arrays(tmp_path / "s.npz")  # type: ignore[misc]
    assert len(train.paths) == 4 and test.labels.tolist() == [1, 0]
    np.save(tmp_path / "u.npy", x)
    data = read_arrays(tmp_path / "u.npy")
    assert not isinstance(data, tuple) and not data.labelled


def test_npz_errors_name_the_file_and_key(tmp_path: Path) -> None:
    np.savez(tmp_path / "k.npz", pixels=np.zeros((2, 4, 4), np.uint8))
    with pytest.raises(UserError, match="k.npz: no image array.*found pixels"):
        read_arrays(tmp_path / "k.npz")
    np.savez(tmp_path / "y.npz", x=np.zeros((3, 4, 4), np.uint8), y=np.array([0, 1]))
    with pytest.raises(UserError, match=r"y.npz\[y\]: labels must be \(3,\)"):
        read_arrays(tmp_path / "y.npz")
    (tmp_path / "junk.npz").write_bytes(b"junk")
    with pytest.raises(UserError, match="junk.npz: not a readable NumPy file"):
        read_arrays(tmp_path / "junk.npz")
