"""CIFAR-10/100 python batches: pixel layout, labels, names, and refusing unsafe pickles."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from contrastkit.data.cifar import read_cifar
from contrastkit.errors import UserError


def _dump(path: Path, obj: object) -> None:
    path.write_bytes(pickle.dumps(obj))


def _rows(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, 3072), dtype=np.uint8)


def make_cifar10(root: Path, per_batch: int = 3) -> dict[str, np.ndarray]:
    root.mkdir(parents=True)
    rows = {}
    for i in range(1, 6):
        rows[f"data_batch_{i}"] = _rows(per_batch, i)
        _dump(
            root / f"data_batch_{i}",
            {
                b"data": rows[f"data_batch_{i}"],
                b"labels": [i % 10] * per_batch,
                b"batch_label": b"training batch",
            },
        )
    rows["test_batch"] = _rows(2, 9)
    _dump(root / "test_batch", {b"data": rows["test_batch"], b"labels": [3, 4]})
    _dump(root / "batches.meta", {b"label_names": [f"c{i}".encode() for i in range(10)]})
    return rows


def test_cifar10_pixels_labels_and_names(tmp_path: Path) -> None:
    rows = make_cifar10(tmp_path / "cifar-10-batches-py")
    train, test = read_cifar(tmp_path / "cifar-10-batches-py")
    assert tuple(train.images.shape) == (15, 3, 32, 32) and tuple(test.images.shape) == (
        2,
        3,
        32,
        32,
    )
    row = rows["data_batch_2"][1]
    x = train.images[4].numpy()  # batch 2, image 1
    np.testing.assert_array_equal(x[0].ravel(), row[:1024])  # red plane first
    np.testing.assert_array_equal(x[2, 31], row[3072 - 32 :])  # last row of blue
    assert train.labels.tolist()[:6] == [1, 1, 1, 2, 2, 2] and test.labels.tolist() == [3, 4]
    assert train.class_names[3] == "c3" and train.name == "cifar10"


def test_cifar100_uses_fine_labels(tmp_path: Path) -> None:
    root = tmp_path / "cifar-100-python"
    root.mkdir()
    _dump(
        root / "train",
        {b"data": _rows(4, 0), b"fine_labels": [0, 5, 99, 5], b"coarse_labels": [0, 1, 2, 1]},
    )
    _dump(root / "test", {b"data": _rows(2, 1), b"fine_labels": [1, 2], b"coarse_labels": [0, 0]})
    _dump(root / "meta", {b"fine_label_names": [f"f{i}".encode() for i in range(100)]})
    train, test = read_cifar(root)
    assert train.labels.tolist() == [0, 5, 99, 5] and len(train.class_names) == 100
    assert train.name == "cifar100" and len(test.paths) == 2


class _Evil:
    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.system, ("echo pwned",))


def test_a_pickle_that_would_run_code_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "c"
    make_cifar10(root)
    _dump(root / "data_batch_3", {b"data": _Evil(), b"labels": []})
    with pytest.raises(
        UserError, match=r"data_batch_3: not a CIFAR python batch.*posix.system|os.system|refusing"
    ):
        read_cifar(root)


def test_missing_batch_and_bad_rows_are_named(tmp_path: Path) -> None:
    root = tmp_path / "c"
    make_cifar10(root)
    (root / "data_batch_5").unlink()
    (root / "data_batch_5").mkdir()
    with pytest.raises(UserError, match="data_batch_5: missing"):
        read_cifar(root)
    (root / "data_batch_5").rmdir()
    _dump(root / "data_batch_5", {b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 0]})
    with pytest.raises(UserError, match=r"data_batch_5: 'data' must be \(N, 3072\)"):
        read_cifar(root)
