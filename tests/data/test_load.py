"""Format detection and `load_image_data` / `load_image_set` over every source."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from contrastkit.augment.build import build_augment
from contrastkit.config import DataConfig, load_config
from contrastkit.data.detect import detect_format
from contrastkit.errors import UserError
from contrastkit.modalities.images.sources import load_image_data, load_image_set

from .images import make_folder, save, shape_image
from .test_cifar import make_cifar10


@pytest.mark.parametrize(
    ("name", "match"),
    [
        ("missing", "no such file or folder"),
        ("photo.png", "a single image; pass the folder"),
        ("data.tar.gz", "an archive; extract it"),
        ("table.csv", r"a \.csv file; expected a folder of PNG/JPEG/BMP images"),
    ],
)
def test_detection_says_why_it_cannot(tmp_path: Path, name: str, match: str) -> None:
    path = tmp_path / name
    if name == "photo.png":
        save(path, shape_image(0))
    elif name != "missing":
        path.write_text("x")
    with pytest.raises(UserError, match=rf"--data .*{name}: {match}"):
        detect_format(path)


def test_detection_finds_each_format(tmp_path: Path) -> None:
    make_cifar10(tmp_path / "cifar")
    np.save(tmp_path / "a.npy", np.zeros((2, 4, 4), np.uint8))
    make_folder(tmp_path / "imgs", None, per_class=1)
    assert detect_format(tmp_path / "cifar") == "cifar"
    assert detect_format(tmp_path / "a.npy") == "arrays"
    assert detect_format(tmp_path / "imgs") == "folder"


def test_unlabeled_folder_gives_a_split_without_classes(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "d", None, per_class=10)
    split = load_image_data(DataConfig(source="auto", path=str(root), test_fraction=0.3))
    assert (len(split.x_train), len(split.x_test)) == (7, 3)
    assert split.num_classes == 0 and (split.y_train == -1).all()


def test_labelled_folder_is_split_by_class(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "d", ["a", "b"], per_class=5)
    split = load_image_data(DataConfig(source="folder", path=str(root), test_fraction=0.4))
    assert sorted(split.y_test.tolist()) == [0, 0, 1, 1]


def test_tiny_classes_fall_back_to_a_random_split_with_a_note(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "d", ["a", "b", "c"], per_class=1)
    split = load_image_data(DataConfig(source="auto", path=str(root), test_fraction=0.3))
    assert len(split.x_train) + len(split.x_test) == 3
    assert any("random split" in n for n in split.notes)


def test_cifar_keeps_its_own_split_and_load_image_set_joins_it(tmp_path: Path) -> None:
    make_cifar10(tmp_path / "c", per_batch=2)
    cfg = DataConfig(source="auto", path=str(tmp_path / "c"))
    split = load_image_data(cfg)
    assert (len(split.x_train), len(split.x_test), split.num_classes) == (10, 2, 10)
    every = load_image_set(cfg)
    assert len(every.paths) == 12 and every.paths[-1].endswith("test_batch[1]")


def test_digits_stay_the_default() -> None:
    split = load_image_data(DataConfig())
    assert split.name == "digits" and tuple(split.x_train.shape[1:]) == (1, 8, 8)
    assert len(load_image_set(DataConfig()).paths) == 1797


def test_a_source_other_than_digits_needs_a_path() -> None:
    with pytest.raises(UserError, match="data.source=folder needs data.path"):
        load_image_data(DataConfig(source="folder"))


def test_new_config_keys_are_typed_and_checked() -> None:
    cfg = load_config(None, ["data.skip_bad=true", "data.image_size=32", "augment.views=multicrop"])
    assert cfg.data.skip_bad and cfg.data.image_size == 32 and cfg.augment.views == "multicrop"
    with pytest.raises(UserError, match="data.skip_bd.*did you mean 'data.skip_bad'"):
        load_config(None, ["data.skip_bd=true"])


def test_photo_recipe_builds_simclr_views() -> None:
    cfg = load_config(Path(__file__).parents[2] / "configs" / "photos_simclr.yaml")
    aug = build_augment(cfg.augment)
    assert (cfg.data.source, cfg.data.image_size, cfg.data.cache) == ("auto", 32, True)
    assert (aug.jitter_prob, aug.grayscale_prob, aug.hflip_prob) == (0.8, 0.2, 0.5)
