"""Turn a `DataConfig` into images: the bundled digits, an image folder, CIFAR, or arrays.

`load_image_data` gives the train/test `ImageSplit` a run trains and evaluates on;
`load_image_set` gives every image with its source path (what `embed` and `search` use);
`lazy_train_items` gives the training split of an image folder as a dataset that decodes
one file per item (`data/folder_items.py`), for a folder read without `data.cache`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from sklearn.model_selection import train_test_split

from contrastkit.data.arrays import read_arrays
from contrastkit.data.cache import cached_decode, default_cache_dir
from contrastkit.data.cifar import read_cifar
from contrastkit.data.detect import detect_format
from contrastkit.data.digits import load_digits
from contrastkit.data.folder import decode_folder, list_folder, scan_folder
from contrastkit.data.folder_items import FolderItems, scan_folder_items
from contrastkit.data.imageset import ImageSet
from contrastkit.data.split import ImageSplit
from contrastkit.errors import UserError
from contrastkit.modalities.options import DataConfig


def read_image_data(cfg: DataConfig) -> ImageSet | tuple[ImageSet, ImageSet]:
    """Read `cfg.path` as its format (detected when `cfg.source` is 'auto').

    Returns:
        One `ImageSet`, or (train, test) when the data comes split (CIFAR, some .npz).
    """
    if cfg.path is None:
        raise UserError(f"data.source={cfg.source} needs data.path (or --data PATH)")
    path = Path(cfg.path).expanduser()
    kind = detect_format(path) if cfg.source == "auto" else cfg.source
    if kind == "cifar":
        return read_cifar(path)
    if kind == "arrays":
        return read_arrays(path)
    layout = scan_folder(path)

    def decode() -> ImageSet:
        return decode_folder(layout, skip_bad=cfg.skip_bad, image_size=cfg.image_size)

    if not cfg.cache:
        return decode()
    cache_dir = Path(cfg.cache_dir).expanduser() if cfg.cache_dir else default_cache_dir()
    return cached_decode(
        layout, decode, cache_dir=cache_dir, skip_bad=cfg.skip_bad, image_size=cfg.image_size
    )


def split_indices(
    labels: torch.Tensor, *, labelled: bool, test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray, str | None]:
    """Train and test indices of a fixed split, stratified by class when `labelled` (a
    plain random split, with a note, when a class is too small to stratify).

    Args:
        labels: Shape: (N,), int64.
    """
    index = np.arange(int(labels.shape[0]))
    try:
        stratify = labels.numpy() if labelled else None
        idx_train, idx_test = train_test_split(
            index, test_size=test_fraction, random_state=seed, stratify=stratify
        )
        return idx_train, idx_test, None
    except ValueError:
        note = "a class is too small to split by class; used a random split"
        idx_train, idx_test = train_test_split(index, test_size=test_fraction, random_state=seed)
        return idx_train, idx_test, note


def split_image_set(data: ImageSet, *, test_fraction: float, seed: int) -> ImageSplit:
    """A fixed train/test split: stratified by class when labelled (falling back to a
    plain random split, with a note, when a class is too small to stratify).

    Raises:
        UserError: fewer than 2 images.
    """
    n = len(data.paths)
    if n < 2:
        raise UserError(f"{data.name}: {n} image(s); need at least 2 to train and evaluate")
    notes = list(data.notes)
    idx_train, idx_test, note = split_indices(
        data.labels, labelled=data.labelled, test_fraction=test_fraction, seed=seed
    )
    notes.extend([note] if note else [])
    train, test = torch.from_numpy(idx_train), torch.from_numpy(idx_test)
    return ImageSplit(
        x_train=data.images[train],
        y_train=data.labels[train],
        x_test=data.images[test],
        y_test=data.labels[test],
        class_names=data.class_names if data.labelled else [],
        name=data.name,
        notes=tuple(notes),
    )


def load_image_data(cfg: DataConfig) -> ImageSplit:
    """The train/test split a config names (the bundled digits by default)."""
    if cfg.source == "digits" and cfg.path is None:
        return load_digits(test_fraction=cfg.test_fraction, seed=cfg.split_seed)
    data = read_image_data(cfg)
    if isinstance(data, tuple):
        train, test = data
        if train.images.shape[1:] != test.images.shape[1:]:
            raise UserError(
                f"{cfg.path}: train images {tuple(train.images.shape[1:])} and test images "
                f"{tuple(test.images.shape[1:])} differ in shape"
            )
        return ImageSplit(
            x_train=train.images,
            y_train=train.labels,
            x_test=test.images,
            y_test=test.labels,
            class_names=train.class_names if train.labelled and test.labelled else [],
            name=train.name,
            notes=tuple(train.notes),
        )
    return split_image_set(data, test_fraction=cfg.test_fraction, seed=cfg.split_seed)


def load_image_set(cfg: DataConfig) -> ImageSet:
    """Every image of the data (train and test together) with its source path."""
    if cfg.source == "digits" and cfg.path is None:
        split = load_digits(test_fraction=cfg.test_fraction, seed=cfg.split_seed)
        images = torch.cat([split.x_train, split.x_test])
        return ImageSet(
            images=images,
            labels=torch.cat([split.y_train, split.y_test]),
            class_names=split.class_names,
            paths=[f"digits[{i}]" for i in range(len(images))],
            name="digits",
        )
    data = read_image_data(cfg)
    if not isinstance(data, tuple):
        return data
    train, test = data
    return ImageSet(
        images=torch.cat([train.images, test.images]),
        labels=torch.cat([train.labels, test.labels]),
        class_names=train.class_names,
        paths=train.paths + test.paths,
        name=train.name,
        notes=train.notes,
    )


def require_labels(split: ImageSplit, why: str) -> None:
    """Raise a clear error when labelled data is needed and `split` has fewer than 2 classes.

    Args:
        why: What needs the labels, e.g. 'method supcon'.
    """
    if split.num_classes < 2:
        found = "no labels" if split.num_classes == 0 else f"one class ({split.class_names[0]!r})"
        raise UserError(
            f"{why} needs labelled data with at least 2 classes, but {split.name} has {found}; "
            "put the images in one subfolder per class"
        )


def lazy_train_items(cfg: DataConfig) -> FolderItems | None:
    """The training split of an image folder read without `data.cache`, as a dataset that
    decodes one file per item; None for every other source.

    The split is `load_image_data`'s (the same indices of the same files), so training
    reads the images that evaluation holds as its `x_train`, in the same order.
    """
    if cfg.path is None or cfg.cache or cfg.source not in ("auto", "folder"):
        return None
    path = Path(cfg.path).expanduser()
    if (detect_format(path) if cfg.source == "auto" else cfg.source) != "folder":
        return None
    items = scan_folder_items(list_folder(path), skip_bad=cfg.skip_bad, image_size=cfg.image_size)
    if len(items) < 2:
        return None  # load_image_data says why
    idx_train, _, _ = split_indices(
        items.labels, labelled=items.labelled, test_fraction=cfg.test_fraction, seed=cfg.split_seed
    )
    return items.subset(torch.from_numpy(idx_train))
