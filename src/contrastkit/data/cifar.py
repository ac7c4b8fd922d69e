"""CIFAR-10 and CIFAR-100 in their python-pickle batch format (the `cifar-*-python` folders).

CIFAR-10: `data_batch_1..5`, `test_batch`, `batches.meta` (label_names).
CIFAR-100: `train`, `test`, `meta` (fine_label_names); the fine labels are used.
Each batch is a pickled dict with `data` (N, 3072) uint8 rows (1024 R, 1024 G, 1024 B
values of a 32x32 image) and `labels` / `fine_labels`. Pickles can run code when loaded,
so they are read with an unpickler that only rebuilds plain containers and NumPy arrays.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import torch

from contrastkit.data.imageset import ImageSet
from contrastkit.errors import UserError

CIFAR10_TRAIN = [f"data_batch_{i}" for i in range(1, 6)]
_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
}


class _ArrayUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return super().find_class(module, name)


def _load_pickle(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            raw = _ArrayUnpickler(handle, encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as err:
        raise UserError(f"{path}: not a CIFAR python batch ({err})") from None
    if not isinstance(raw, dict):
        raise UserError(f"{path}: not a CIFAR python batch (a {type(raw).__name__}, not a dict)")
    return {(k.decode() if isinstance(k, bytes) else str(k)): v for k, v in raw.items()}


def _pixels(value: Any, path: Path) -> np.ndarray:
    """The (N, 3072) uint8 rows of a batch. Other dtypes are refused, not cast: floats in
    [0, 1) would all become 0 and integers over 255 would wrap."""
    data = np.asarray(value) if isinstance(value, np.ndarray | list) else None
    if data is None or data.dtype == object or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        shape = getattr(data, "shape", type(value).__name__)
        raise UserError(f"{path}: 'data' must be (N, 3072) uint8, got {shape}")
    if data.dtype == np.uint8:
        return data
    if np.issubdtype(data.dtype, np.integer) and data.size and 0 <= data.min() <= data.max() <= 255:
        return data.astype(np.uint8)
    found = (
        f"values in [{data.min()}, {data.max()}]" if data.size and data.dtype.kind in "iuf" else ""
    )
    raise UserError(
        f"{path}: 'data' must be uint8 pixels 0..255, got {data.dtype} {found}".rstrip()
        + (
            " (floats in [0, 1]? multiply by 255 and store as uint8)"
            if data.dtype.kind == "f"
            else ""
        )
    )


def _labels(value: Any, n: int, where: str) -> np.ndarray:
    """The (N,) integer labels of a batch, or a `UserError` naming `where`."""
    labels = np.asarray(value) if isinstance(value, np.ndarray | list) else None
    if labels is None or labels.shape != (n,) or not np.issubdtype(labels.dtype, np.integer):
        got = "nothing" if labels is None else f"{labels.dtype} {labels.shape}"
        raise UserError(f"{where}: expected {n} integer labels, got {got}")
    return labels.astype(np.int64)


def _names(value: Any, where: str) -> list[str]:
    if not isinstance(value, list | tuple | np.ndarray) or not all(
        isinstance(n, str | bytes) for n in value
    ):
        raise UserError(f"{where}: expected a list of class names, got {type(value).__name__}")
    return [n.decode(errors="replace") if isinstance(n, bytes) else str(n) for n in value]


def cifar_kind(root: Path) -> str | None:
    """'cifar10', 'cifar100' or None for a folder that holds neither."""
    if (root / "batches.meta").is_file() and (root / "data_batch_1").is_file():
        return "cifar10"
    if (root / "meta").is_file() and (root / "train").is_file():
        return "cifar100"
    return None


def _read_batches(paths: list[Path], label_key: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    images: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    names: list[str] = []
    for path in paths:
        batch = _load_pickle(path)
        if "data" not in batch or label_key not in batch:
            raise UserError(f"{path}: missing 'data' or '{label_key}' (keys: {sorted(batch)})")
        data = _pixels(batch["data"], path)
        images.append(data.reshape(-1, 3, 32, 32))
        labels.append(_labels(batch[label_key], len(data), f"{path}: '{label_key}'"))
        names.extend(f"{path}[{i}]" for i in range(len(data)))
    return np.concatenate(images), np.concatenate(labels), names


def read_cifar(root: Path) -> tuple[ImageSet, ImageSet]:
    """The official train and test sets of a CIFAR-10/100 python folder.

    Raises:
        UserError: the folder is not in the format, or a batch file is missing/broken.
    """
    kind = cifar_kind(root)
    if kind == "cifar10":
        meta_file, names_key, label_key = "batches.meta", "label_names", "labels"
        train_files, test_files = CIFAR10_TRAIN, ["test_batch"]
    elif kind == "cifar100":
        meta_file, names_key, label_key = "meta", "fine_label_names", "fine_labels"
        train_files, test_files = ["train"], ["test"]
    else:
        raise UserError(
            f"{root}: not a CIFAR python folder (expected batches.meta + data_batch_1..5 + "
            "test_batch, or meta + train + test)"
        )
    for name in [*train_files, *test_files]:
        if not (root / name).is_file():
            raise UserError(f"{root / name}: missing ({kind} needs {', '.join(train_files)})")
    meta = _load_pickle(root / meta_file)
    if names_key not in meta:
        raise UserError(f"{root / meta_file}: missing '{names_key}'")
    class_names = _names(meta[names_key], f"{root / meta_file}: '{names_key}'")
    sets = []
    for files, part in ((train_files, "train"), (test_files, "test")):
        x, y, paths = _read_batches([root / f for f in files], label_key)
        if y.size and (y.min() < 0 or y.max() >= len(class_names)):
            raise UserError(f"{root}: {part} labels outside 0..{len(class_names) - 1}")
        sets.append(
            ImageSet(
                images=torch.from_numpy(x),
                labels=torch.from_numpy(y),
                class_names=class_names,
                paths=paths,
                name=kind,
            )
        )
    return sets[0], sets[1]
