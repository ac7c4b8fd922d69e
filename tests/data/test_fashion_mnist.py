"""Fashion-MNIST IDX files: the format written by hand (gzipped and plain), corrupt and
truncated files, and (when the Debian package is installed) the real 60,000/10,000 split."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from contrastkit.data.fashion_mnist import (
    FASHION_MNIST_CLASSES,
    FASHION_MNIST_ROOT,
    read_fashion_mnist,
    read_idx,
)
from contrastkit.errors import UserError


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding: 0x00 0x00, type 0x08 (ubyte), ndim, big-endian uint32 sizes, data."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_fashion(root: Path, *, n_train: int = 5, n_test: int = 3, gz: bool = True) -> dict:
    rng = np.random.default_rng(0)
    root.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": np.arange(n_train, dtype=np.uint8) % 10,
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": (np.arange(n_test, dtype=np.uint8) + 7) % 10,
    }
    for name, array in arrays.items():
        data = idx_bytes(array)
        if gz:
            (root / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (root / name).write_bytes(data)
    return arrays


@pytest.mark.parametrize("gz", [True, False])
def test_reads_generated_idx_files(tmp_path: Path, gz: bool) -> None:
    arrays = write_fashion(tmp_path, gz=gz)
    train, test = read_fashion_mnist(tmp_path)
    assert train.images.shape == (5, 1, 28, 28) and train.images.dtype == torch.uint8
    assert test.images.shape == (3, 1, 28, 28)
    assert np.array_equal(train.images[:, 0].numpy(), arrays["train-images-idx3-ubyte"])
    assert train.labels.dtype == torch.int64
    assert train.labels.tolist() == [0, 1, 2, 3, 4] and test.labels.tolist() == [7, 8, 9]
    assert train.class_names == FASHION_MNIST_CLASSES and len(FASHION_MNIST_CLASSES) == 10
    assert train.name == "fashion_mnist" and train.paths[1].endswith("[1]")
    assert train.notes == ["train: 5 images, not 60000"]


def test_read_idx_matches_the_header(tmp_path: Path) -> None:
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "a").write_bytes(idx_bytes(array))
    assert np.array_equal(read_idx(tmp_path / "a", ndim=3), array)


def test_wrong_magic_names_the_file_and_the_expected_magic(tmp_path: Path) -> None:
    path = tmp_path / "labels"
    path.write_bytes(idx_bytes(np.zeros((2, 2), dtype=np.uint8)))  # 2-d, read as 1-d
    with pytest.raises(
        UserError, match=rf"{path}: IDX magic number 0x00000802, expected 0x00000801"
    ):
        read_idx(path, ndim=1)
    path.write_bytes(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(UserError, match="expected 0x00000803"):
        read_idx(path, ndim=3)


def test_truncated_files_say_what_the_header_promised(tmp_path: Path) -> None:
    path = tmp_path / "images.gz"
    data = idx_bytes(np.zeros((3, 28, 28), dtype=np.uint8))
    path.write_bytes(gzip.compress(data[:-100]))
    with pytest.raises(UserError, match=r"shape \(3, 28, 28\) = 2352 bytes of data, found 2252"):
        read_idx(path, ndim=3)
    path.write_bytes(gzip.compress(data[:9]))
    with pytest.raises(UserError, match="truncated header"):
        read_idx(path, ndim=3)
    path.write_bytes(gzip.compress(data)[:-10])  # a gzip stream cut before its end
    with pytest.raises(UserError, match=f"{path}: cannot read"):
        read_idx(path, ndim=3)
    path.write_bytes(b"\x00\x00")
    with pytest.raises(UserError, match="too short for an IDX header"):
        read_idx(path, ndim=3)


def test_mismatched_counts_wrong_size_and_bad_labels(tmp_path: Path) -> None:
    write_fashion(tmp_path)
    labels = tmp_path / "train-labels-idx1-ubyte.gz"
    labels.write_bytes(gzip.compress(idx_bytes(np.zeros(4, dtype=np.uint8))))
    with pytest.raises(UserError, match="holds 5 images but .* 4 labels"):
        read_fashion_mnist(tmp_path)
    labels.write_bytes(gzip.compress(idx_bytes(np.full(5, 10, dtype=np.uint8))))
    with pytest.raises(UserError, match="label 10, expected 0..9"):
        read_fashion_mnist(tmp_path)
    images = tmp_path / "train-images-idx3-ubyte.gz"
    images.write_bytes(gzip.compress(idx_bytes(np.zeros((5, 32, 32), dtype=np.uint8))))
    with pytest.raises(UserError, match="expected 28x28"):
        read_fashion_mnist(tmp_path)


def test_missing_files_say_how_to_install(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="apt-get install dataset-fashion-mnist"):
        read_fashion_mnist(tmp_path)


@pytest.mark.slow
@pytest.mark.skipif(
    not (FASHION_MNIST_ROOT / "t10k-labels-idx1-ubyte.gz").is_file(),
    reason="Debian package dataset-fashion-mnist not installed (make system-deps)",
)
def test_the_real_files() -> None:
    train, test = read_fashion_mnist()
    assert train.images.shape == (60_000, 1, 28, 28)
    assert test.images.shape == (10_000, 1, 28, 28)
    assert train.labels.bincount().tolist() == [6000] * 10
    assert test.labels.bincount().tolist() == [1000] * 10
    assert train.notes == [] and test.notes == []
    assert 0 < float(train.images.float().mean()) < 255
