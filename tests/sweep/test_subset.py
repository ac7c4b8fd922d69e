"""`--subset N`: a seeded sample of the training images, the test images whole, written as
an .npz that a run reads with `data.source: arrays`."""

from __future__ import annotations

from pathlib import Path

import torch

from contrastkit.config import load_config
from contrastkit.data.arrays import read_arrays
from contrastkit.data.fashion_mnist import read_fashion_mnist
from contrastkit.modalities.images.sources import load_image_data
from contrastkit.run import resolve


def test_the_digits_subset_is_the_seeded_sample_and_the_whole_test_split(tmp_path: Path) -> None:
    cfg = load_config("configs/digits_simclr.yaml")
    settings = resolve(cfg).write_subset(100, 3, tmp_path)
    assert settings == {"source": "arrays", "path": str((tmp_path / "digits-100.npz").resolve())}
    split = read_arrays(Path(settings["path"]))
    assert isinstance(split, tuple)
    train, test = split
    full = load_image_data(cfg.data)
    keep = torch.randperm(1257, generator=torch.Generator().manual_seed(3))[:100].sort().values
    assert torch.equal(train.images, full.x_train[keep])
    assert torch.equal(train.labels, full.y_train[keep])
    assert torch.equal(test.images, full.x_test) and torch.equal(test.labels, full.y_test)
    assert train.class_names == full.class_names and train.name == "digits-100"


def test_the_fashion_subset_is_the_benchmarks_reduced_protocol(tmp_path: Path) -> None:
    """The same 10,000 images as benchmarks/fashion.py --subset 10000 (seed 0): the first
    10,000 of torch.randperm(60000) seeded 0, in file order; the 10,000 test images."""
    cfg = load_config("configs/fashion_simclr.yaml")
    settings = resolve(cfg).write_subset(10_000, 0, tmp_path)
    split = read_arrays(Path(settings["path"]))
    assert isinstance(split, tuple)
    train, test = split
    full_train, full_test = read_fashion_mnist()
    keep = torch.randperm(60_000, generator=torch.Generator().manual_seed(0))[:10_000].sort().values
    assert torch.equal(train.images, full_train.images[keep])
    assert torch.equal(train.labels, full_train.labels[keep])
    assert torch.equal(test.labels, full_test.labels) and len(test.images) == 10_000
    assert train.class_names[0] == "T-shirt/top" and train.name == "fashion_mnist-10000"
