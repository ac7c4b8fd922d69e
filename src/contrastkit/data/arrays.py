"""Images stored as NumPy arrays: `.npy` (images only, unlabeled) or `.npz`.

An `.npz` holds either `x_train`, `y_train`, `x_test`, `y_test` (a given split), or `x`
(also accepted: `images`) with optional `y` (`labels`); optional `class_names`. Image
arrays may be (N, H, W), (N, C, H, W) or (N, H, W, C), uint8 / uint16 / float in [0, 1].
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from contrastkit.data.imageset import ImageSet, to_nchw_uint8, unlabeled
from contrastkit.errors import UserError


def _load(path: Path) -> dict[str, np.ndarray]:
    try:
        loaded = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise UserError(f"{path}: not a readable NumPy file ({err})") from None
    if isinstance(loaded, np.ndarray):
        return {"x": loaded}
    with loaded:
        return {key: loaded[key] for key in loaded.files}


def _labels(y: np.ndarray, n: int, where: str) -> np.ndarray:
    if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer):
        raise UserError(f"{where}: labels must be ({n},) integers, got {y.dtype} {y.shape}")
    if y.min() < 0:
        raise UserError(f"{where}: labels must be >= 0, got {y.min()}")
    return y.astype(np.int64)


def _image_set(
    arrays: dict[str, np.ndarray], x_key: str, y_key: str | None, path: Path, names: list[str]
) -> ImageSet:
    x = to_nchw_uint8(arrays[x_key], f"{path}[{x_key}]")
    n = len(x)
    if y_key is None:
        labels, class_names = unlabeled(n), []
    else:
        y = _labels(arrays[y_key], n, f"{path}[{y_key}]")
        labels = torch.from_numpy(y)
        class_names = names or [str(c) for c in range(int(y.max()) + 1)]
        if int(y.max()) >= len(class_names):
            raise UserError(f"{path}: label {int(y.max())} has no entry in class_names")
    return ImageSet(
        images=torch.from_numpy(x),
        labels=labels,
        class_names=class_names,
        paths=[f"{path}[{x_key}][{i}]" for i in range(n)],
        name=path.stem,
    )


def read_arrays(path: Path) -> ImageSet | tuple[ImageSet, ImageSet]:
    """One `ImageSet`, or (train, test) when the file holds a split.

    Raises:
        UserError: unreadable file, no image array, labels of the wrong length.
    """
    arrays = _load(path)
    names = [str(n) for n in arrays["class_names"]] if "class_names" in arrays else []
    if "x_train" in arrays and "x_test" in arrays:
        y_train = "y_train" if "y_train" in arrays else None
        y_test = "y_test" if "y_test" in arrays else None
        if (y_train is None) != (y_test is None):
            raise UserError(f"{path}: has labels for one split only (y_train / y_test)")
        return (
            _image_set(arrays, "x_train", y_train, path, names),
            _image_set(arrays, "x_test", y_test, path, names),
        )
    x_key = next((k for k in ("x", "images") if k in arrays), None)
    if x_key is None:
        raise UserError(
            f"{path}: no image array (expected key 'x' or 'images', or 'x_train' and "
            f"'x_test'; found {', '.join(sorted(arrays)) or 'nothing'})"
        )
    y_key = next((k for k in ("y", "labels") if k in arrays), None)
    return _image_set(arrays, x_key, y_key, path, names)
