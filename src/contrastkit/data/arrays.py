"""Images stored as NumPy arrays: `.npy` (images only, unlabeled) or `.npz`.

An `.npz` holds either `x_train`, `y_train`, `x_test`, `y_test` (a given split), or `x`
(also accepted: `images`) with optional `y` (`labels`); optional `class_names`. Image
arrays may be (N, H, W), (N, C, H, W) or (N, H, W, C), uint8 / uint16 / float in [0, 1].
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import torch

from contrastkit.atomic import write_atomic
from contrastkit.data.imageset import ImageSet, to_nchw_uint8, unlabeled
from contrastkit.data.split import ImageSplit
from contrastkit.errors import UserError


def _load(path: Path) -> dict[str, np.ndarray]:
    try:  # allow_pickle=False: object arrays are refused, never unpickled
        with path.open("rb") as handle:
            loaded = np.load(handle, allow_pickle=False)
            if isinstance(loaded, np.ndarray):
                return {"x": loaded}
            with loaded:
                return {key: loaded[key] for key in loaded.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        reason = str(err) or type(err).__name__
        if isinstance(err, EOFError) or path.stat().st_size == 0:
            reason = "the file is empty or cut short"
        elif "allow_pickle" in reason:
            reason = "it holds Python objects, which are never unpickled; save plain arrays"
        raise UserError(f"{path}: not a readable NumPy file ({reason})") from None


def _labels(y: np.ndarray, n: int, where: str) -> np.ndarray:
    if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer):
        raise UserError(f"{where}: labels must be ({n},) integers, got {y.dtype} {y.shape}")
    if y.min() < 0:
        raise UserError(f"{where}: labels must be >= 0, got {y.min()}")
    return y.astype(np.int64)


def _sparse_values(
    arrays: dict[str, np.ndarray], keys: list[str], names: list[str]
) -> np.ndarray | None:
    """The label values to relabel 0..K-1 when labels are sparse (say 3, 70, 10**12: a
    name per index up to the largest would be wasted or impossible), else None."""
    if names:
        return None
    ys = [np.asarray(arrays[k]) for k in keys]
    if not all(y.size and np.issubdtype(y.dtype, np.integer) for y in ys):
        return None  # _labels says what is wrong
    values = np.unique(np.concatenate([y.ravel() for y in ys]))
    return values if int(values.max()) >= 2 * len(values) else None


def _image_set(
    arrays: dict[str, np.ndarray],
    x_key: str,
    y_key: str | None,
    path: Path,
    names: list[str],
    values: np.ndarray | None = None,
) -> ImageSet:
    x = to_nchw_uint8(arrays[x_key], f"{path}[{x_key}]")
    n = len(x)
    notes: list[str] = []
    if y_key is None or n == 0:
        labels, class_names = unlabeled(n), []
    else:
        y = _labels(arrays[y_key], n, f"{path}[{y_key}]")
        if values is not None:
            y = np.searchsorted(values, y)
            class_names = [str(v) for v in values]
            shown = ", ".join(class_names[:5]) + (", ..." if len(values) > 5 else "")
            notes.append(f"{path}[{y_key}]: labels {shown} relabelled 0..{len(values) - 1}")
        else:
            class_names = names or [str(c) for c in range(int(y.max()) + 1)]
        labels = torch.from_numpy(y.astype(np.int64))
        if int(y.max()) >= len(class_names):
            raise UserError(f"{path}: label {int(y.max())} has no entry in class_names")
    return ImageSet(
        images=torch.from_numpy(x),
        labels=labels,
        class_names=class_names,
        paths=[f"{path}[{x_key}][{i}]" for i in range(n)],
        name=path.stem,
        notes=notes,
    )


def read_arrays(path: Path) -> ImageSet | tuple[ImageSet, ImageSet]:
    """One `ImageSet`, or (train, test) when the file holds a split.

    Raises:
        UserError: unreadable file, no image array, an empty split, labels of the wrong
            length.
    """
    arrays = _load(path)
    names = [str(n) for n in arrays["class_names"]] if "class_names" in arrays else []
    if "x_train" in arrays and "x_test" in arrays:
        y_train = "y_train" if "y_train" in arrays else None
        y_test = "y_test" if "y_test" in arrays else None
        if (y_train is None) != (y_test is None):
            raise UserError(f"{path}: has labels for one split only (y_train / y_test)")
        for key in ("x_train", "x_test"):
            if not np.asarray(arrays[key]).size:
                raise UserError(f"{path}[{key}]: holds no images; a given split needs both")
        values = None if y_train is None else _sparse_values(arrays, ["y_train", "y_test"], names)
        return (
            _image_set(arrays, "x_train", y_train, path, names, values),
            _image_set(arrays, "x_test", y_test, path, names, values),
        )
    x_key = next((k for k in ("x", "images") if k in arrays), None)
    if x_key is None:
        raise UserError(
            f"{path}: no image array (expected key 'x' or 'images', or 'x_train' and "
            f"'x_test'; found {', '.join(sorted(arrays)) or 'nothing'})"
        )
    y_key = next((k for k in ("y", "labels") if k in arrays), None)
    values = None if y_key is None else _sparse_values(arrays, [y_key], names)
    return _image_set(arrays, x_key, y_key, path, names, values)


def write_split_arrays(path: Path, split: ImageSplit) -> None:
    """Write `split` as an `.npz` that `read_arrays` reads back as the same split
    (`x_train`, `x_test`, uint8 (N, C, H, W); `y_train`, `y_test` and `class_names` when
    every image has a label), atomically."""
    arrays = {"x_train": split.x_train.numpy(), "x_test": split.x_test.numpy()}
    labelled = bool((split.y_train >= 0).all() and (split.y_test >= 0).all())
    if labelled and split.class_names:
        arrays |= {"y_train": split.y_train.numpy(), "y_test": split.y_test.numpy()}
        arrays["class_names"] = np.array(split.class_names, dtype=str)
    write_atomic(path, lambda handle: np.savez(handle, **arrays))  # type: ignore[arg-type]
