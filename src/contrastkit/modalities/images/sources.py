"""Where a run's images come from: `data.source` and `data.path` to images.

`load_image_data` gives the train/test `ImageSplit` a run trains and evaluates on, decoded
in memory; `load_image_set` gives every image with its source path (what `embed` and
`search` use); `lazy_folder_split` gives an image folder read without `data.cache` as two
datasets (train, test) that decode one file per item (`data/folder_items.py`).
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
from contrastkit.data.fashion_mnist import FASHION_MNIST_ROOT, read_fashion_mnist
from contrastkit.data.folder import decode_folder, list_folder, scan_folder
from contrastkit.data.folder_items import FolderItems, scan_folder_items
from contrastkit.data.imageset import ImageSet
from contrastkit.data.split import ImageSplit
from contrastkit.errors import UserError
from contrastkit.modalities.options import DataConfig

IMAGE_SOURCES = ("digits", "fashion_mnist", "auto", "folder", "cifar", "arrays")
"""`digits` is bundled with scikit-learn; `fashion_mnist` is the Debian package
dataset-fashion-mnist (60,000 train / 10,000 test, 28x28 grey; `data.path` may name another
folder of its IDX files); the others read `data.path` (`auto` detects the format)."""


def read_image_data(cfg: DataConfig) -> ImageSet | tuple[ImageSet, ImageSet]:
    """Read `cfg.path` as its format (detected when `cfg.source` is 'auto').

    Returns:
        One `ImageSet`, or (train, test) when the data comes split (CIFAR, some .npz).
    """
    if cfg.source == "fashion_mnist":
        return read_fashion_mnist(Path(cfg.path).expanduser() if cfg.path else FASHION_MNIST_ROOT)
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


def lazy_folder_items(cfg: DataConfig) -> FolderItems | None:
    """Every image of a folder read without `data.cache`, as a dataset that decodes one file
    per item (only the headers are read here); None for every other source."""
    if cfg.path is None or cfg.cache or cfg.source not in ("auto", "folder"):
        return None
    path = Path(cfg.path).expanduser()
    if (detect_format(path) if cfg.source == "auto" else cfg.source) != "folder":
        return None
    return scan_folder_items(list_folder(path), skip_bad=cfg.skip_bad, image_size=cfg.image_size)


def sample(items: FolderItems, limit: int | None, seed: int) -> FolderItems:
    """At most `limit` of the items, drawn with `seed`, in their original order."""
    if limit is None or len(items) <= limit:
        return items
    pick = torch.randperm(len(items), generator=torch.Generator().manual_seed(seed))[:limit]
    return items.subset(pick.sort().values)


def lazy_folder_split(cfg: DataConfig) -> tuple[FolderItems, FolderItems] | None:
    """The (train, test) split of an image folder read without `data.cache`, as datasets
    that decode one file per item; None for every other source.

    The split is `load_image_data`'s (the same indices of the same files): only the image
    headers are read here.
    """
    items = lazy_folder_items(cfg)
    if items is None or len(items) < 2:
        return None  # load_image_data says why
    idx_train, idx_test, note = split_indices(
        items.labels, labelled=items.labelled, test_fraction=cfg.test_fraction, seed=cfg.split_seed
    )
    if note is not None:
        items.notes.append(note)
    return items.subset(torch.from_numpy(idx_train)), items.subset(torch.from_numpy(idx_test))


def source_for(cfg: DataConfig, data: str) -> DataConfig:
    """The run's own data for 'train' (and 'digits' on a digits run), else `data` as a path
    read with the run's data options (skip_bad, image_size, cache)."""
    if data == "train" or (data == "digits" and cfg.source == "digits"):
        return cfg
    return cfg.model_copy(update={"source": "auto", "path": data})
