"""Fashion-MNIST (Xiao et al., arXiv:1708.07747): 60,000 train and 10,000 test 28x28 grey
images of 10 clothing classes, in the IDX files the Debian package `dataset-fashion-mnist`
installs under /usr/share/datasets/fashion-mnist/ (gzipped; plain files are read too).

IDX format (big-endian): two zero bytes, a type byte (0x08 = unsigned byte), the number of
dimensions d, then d uint32 sizes, then the values. Images are d = 3 (N, 28, 28): magic
0x00000803; labels are d = 1 (N,): magic 0x00000801.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import torch

from contrastkit.data.imageset import ImageSet
from contrastkit.errors import UserError

FASHION_MNIST_ROOT = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]
FASHION_MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", 60_000),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 10_000),
}
_GZIP_MAGIC = b"\x1f\x8b"


def _read_bytes(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
        return gzip.decompress(raw) if raw[:2] == _GZIP_MAGIC else raw
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        raise UserError(f"{path}: cannot read ({err})") from None


def read_idx(path: Path, *, ndim: int) -> np.ndarray:
    """The uint8 array of an IDX file (gzipped or not) with `ndim` dimensions.

    Raises:
        UserError: naming the file, when the magic number, the type, the number of
            dimensions or the size of the data is not what the header says or expects.
    """
    data = _read_bytes(path)
    expected_magic = 0x0800 | ndim
    if len(data) < 4:
        raise UserError(f"{path}: {len(data)} bytes, too short for an IDX header")
    (magic,) = struct.unpack(">I", data[:4])
    if magic != expected_magic:
        raise UserError(
            f"{path}: IDX magic number 0x{magic:08x}, expected 0x{expected_magic:08x} "
            f"(unsigned bytes, {ndim} dimension{'s' if ndim > 1 else ''})"
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise UserError(f"{path}: truncated header ({len(data)} bytes, expected {header})")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    size = int(np.prod(shape, dtype=np.int64))
    if len(data) - header != size:
        raise UserError(
            f"{path}: header says shape {tuple(shape)} = {size} bytes of data, found "
            f"{len(data) - header} (truncated or corrupt file)"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def _read_part(root: Path, part: str) -> ImageSet:
    image_name, label_name, count = FASHION_MNIST_FILES[part]
    image_path, label_path = _find(root, image_name), _find(root, label_name)
    images = read_idx(image_path, ndim=3)
    labels = read_idx(label_path, ndim=1)
    if images.shape[1:] != (28, 28):
        raise UserError(f"{image_path}: images of {images.shape[1:]}, expected 28x28")
    if len(images) != len(labels):
        raise UserError(
            f"{image_path} holds {len(images)} images but {label_path} {len(labels)} labels"
        )
    if labels.size and labels.max() >= len(FASHION_MNIST_CLASSES):
        raise UserError(f"{label_path}: label {int(labels.max())}, expected 0..9")
    return ImageSet(
        images=torch.from_numpy(images.copy()).unsqueeze(1),  # (N, 1, 28, 28)
        labels=torch.from_numpy(labels.astype(np.int64)),
        class_names=list(FASHION_MNIST_CLASSES),
        paths=[f"{image_path}[{i}]" for i in range(len(images))],
        name="fashion_mnist",
        notes=[] if len(images) == count else [f"{part}: {len(images)} images, not {count}"],
    )


def _find(root: Path, name: str) -> Path:
    for candidate in (root / f"{name}.gz", root / name):
        if candidate.is_file():
            return candidate
    raise UserError(
        f"{root / name}(.gz) not found: install Fashion-MNIST with "
        "`apt-get install dataset-fashion-mnist` (or `make system-deps`), or point data.path "
        "at a folder holding the four IDX files"
    )


def read_fashion_mnist(root: Path = FASHION_MNIST_ROOT) -> tuple[ImageSet, ImageSet]:
    """The official train (60,000) and test (10,000) sets.

    Returns:
        (train, test), each with images (N, 1, 28, 28) uint8, labels (N,) int64 in 0..9 and
        the 10 class names.

    Raises:
        UserError: a file is missing, corrupt or truncated (the message names it).
    """
    return _read_part(root, "train"), _read_part(root, "test")
