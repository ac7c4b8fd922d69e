from pathlib import Path

import pytest

from contrastkit.config import METHOD_CONFIGS, Config, dump_config, load_config
from contrastkit.errors import UserError
from contrastkit.methods.registry import METHODS


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return path


def test_defaults_and_override(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, "train:\n  epochs: 7\n"), ["train.lr=0.01", "seed=3"])
    assert cfg.train.epochs == 7
    assert cfg.train.lr == 0.01
    assert cfg.seed == 3
    assert cfg.eval.knn_k == Config().eval.knn_k


def test_unknown_key_suggests_nearest(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"unknown key 'train.epoch'.*did you mean 'train.epochs'"):
        load_config(write(tmp_path, "train:\n  epoch: 7\n"))


def test_unknown_section_suggests_nearest(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"unknown key 'trian'.*did you mean 'train'"):
        load_config(write(tmp_path, "trian:\n  epochs: 7\n"))


def test_unknown_override_key() -> None:
    with pytest.raises(UserError, match=r"unknown key 'train.bach_size'.*'train.batch_size'"):
        load_config(None, ["train.bach_size=3"])


def test_wrong_type_names_key(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"train.epochs: .*integer.*'many'"):
        load_config(write(tmp_path, "train:\n  epochs: many\n"))


def test_out_of_range_value() -> None:
    with pytest.raises(UserError, match=r"method.temperature"):
        load_config(None, ["method.temperature=0"])


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")


def test_bad_yaml_names_line(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"line 2"):
        load_config(write(tmp_path, "train:\n  epochs: [1\n"))


def test_override_needs_equals() -> None:
    with pytest.raises(UserError, match="KEY=VALUE"):
        load_config(None, ["train.epochs"])


def test_dump_round_trips(tmp_path: Path) -> None:
    cfg = load_config(None, ["train.epochs=3", "augment.crop_scale=[0.3, 0.9]"])
    again = load_config(write(tmp_path, dump_config(cfg)))
    assert again == cfg


@pytest.mark.parametrize(
    "recipe",
    sorted((Path(__file__).resolve().parents[1] / "configs").glob("*.yaml")),
    ids=lambda p: p.name,
)
def test_every_shipped_recipe_loads_and_names_a_registered_method(recipe: Path) -> None:
    cfg = load_config(recipe)
    assert cfg.method.name in METHODS
    assert type(cfg.method) is METHOD_CONFIGS[cfg.method.name]


def test_unknown_method_names_the_file_and_the_nearest(tmp_path: Path) -> None:
    path = write(tmp_path, "method:\n  name: byl\n")
    with pytest.raises(UserError, match=rf"{path}: method.name: unknown method 'byl'.*'byol'"):
        load_config(path)


def test_method_keys_are_checked_against_the_named_section() -> None:
    with pytest.raises(UserError, match=r"unknown key 'method.queue_size'.*valid here: name"):
        load_config(None, ["method.name=simclr", "method.queue_size=8"])
    cfg = load_config(None, ["method.name=moco_v2", "method.queue_size=8"])
    assert cfg.method == METHOD_CONFIGS["moco_v2"](queue_size=8)


def test_two_tower_keys_are_the_methods_own() -> None:
    cfg = load_config(None, ["method.name=clip", "method.embed_dim=32"])
    assert cfg.method == METHOD_CONFIGS["clip"](embed_dim=32)
    assert "pairs" not in Config.model_fields
    with pytest.raises(UserError, match=r"unknown key 'method.init_temperature'"):
        load_config(None, ["method.name=siglip", "method.init_temperature=0.1"])
