"""Size-dependent settings derived from the data when the user did not set them."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from contrastkit.augment.options import COLOUR_VIEWS, GREY_VIEWS
from contrastkit.config import config_from_dict, fit_to_data

COLOUR_KEYS = tuple(COLOUR_VIEWS)


def test_batch_and_warmup_are_chosen_for_small_data() -> None:
    given = config_from_dict({"train": {"epochs": 10}})
    cfg, lines = fit_to_data(given, 300)
    assert cfg.train.batch_size == 64 and cfg.train.warmup_epochs == 1
    assert given.train.batch_size == 256 and given.train.warmup_epochs == 10  # a new config
    assert lines == [
        "chose train.batch_size=64 for 300 items (was 256, 1 step(s) per epoch); "
        "set it to override",
        "chose train.warmup_epochs=1 for a run of 10 epochs (was 10); set it to override",
    ]


def test_values_the_user_set_are_kept_with_a_warning() -> None:
    given = config_from_dict({"train": {"epochs": 10, "batch_size": 256, "warmup_epochs": 8}})
    cfg, lines = fit_to_data(given, 300)
    assert cfg.train.batch_size == 256 and cfg.train.warmup_epochs == 8
    assert [line.split(":")[0] for line in lines] == ["warning", "warning"]


def test_the_digits_recipe_is_unchanged() -> None:
    given = config_from_dict({"train": {"epochs": 200, "batch_size": 256}})
    cfg, lines = fit_to_data(given, 1257)
    assert lines == [] and cfg == given


def test_fitted_defaults_apply_only_where_the_config_sets_none_of_their_keys() -> None:
    from contrastkit.config import fit_defaults
    from contrastkit.modalities.base import Fitted

    colour = Fitted("augment", dict(COLOUR_VIEWS), "colour images")
    larger = Fitted("model", {"encoder": "resnet_small"}, "64x64 images")
    cfg, lines = fit_defaults(config_from_dict({"model": {"width": 16}}), [colour, larger])
    assert cfg.augment.hflip_prob == 0.5 and cfg.augment.jitter_prob == 0.8
    assert cfg.augment.crop_scale == (0.2, 1.0) and cfg.augment.rotation_deg == 0.0
    assert cfg.augment.blur_prob == 0.5  # a default the colour views keep
    assert cfg.model.encoder == "resnet_small" and cfg.model.width == 16
    assert lines[0].startswith("chose augment.crop_scale=(0.2, 1.0), augment.hflip_prob=0.5")
    assert lines[0].endswith("for colour images; set it to override")
    assert lines[1] == "chose model.encoder=resnet_small for 64x64 images; set it to override"
    given = config_from_dict({"augment": {"rotation_deg": 5.0}, "model": {"encoder": "small_cnn"}})
    kept, lines = fit_defaults(given, [colour, larger])
    assert lines == [] and kept == given


def test_image_data_ask_for_colour_or_grey_views_and_a_strided_encoder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from contrastkit.config import settings_of
    from contrastkit.modalities.images import pretrained
    from contrastkit.modalities.registry import modality_for

    monkeypatch.setattr(pretrained, "weights_installed", lambda _name: False)

    cases = (("RGB", 8, "rgb"), ("L", 8, "grey"), ("L", 16, "grey16"), ("L", 28, "grey28"))
    for mode, side, name in (*cases, ("RGB", 64, "large")):
        for cls in ("a", "b"):
            (tmp_path / name / cls).mkdir(parents=True)
            for i in range(3):
                Image.new(mode, (side, side)).save(tmp_path / name / cls / f"{i}.png")

    def fitted(name: str) -> list[tuple[str, list[str]]]:
        cfg = config_from_dict({"data": {"source": "folder", "path": str(tmp_path / name)}})
        return [
            (f.section, list(f.values)) for f in modality_for(settings_of(cfg)).fitted_defaults()
        ]

    assert fitted("rgb") == [("augment", list(COLOUR_KEYS))]
    assert fitted("grey") == [] and fitted("grey16") == []  # the digits' kind keeps its views
    assert fitted("grey28") == [("augment", list(GREY_VIEWS)), ("model", ["encoder"])]
    assert fitted("large") == [("augment", list(COLOUR_KEYS)), ("model", ["encoder"])]
    assert modality_for(settings_of(config_from_dict({}))).fitted_defaults() == []  # digits
    monkeypatch.setattr(pretrained, "weights_installed", lambda _name: True)
    tuned = [("model", ["resolution"]), ("model", ["frozen_parts"]),
             ("train", list(pretrained.FINE_TUNING))]  # fmt: skip
    start = [("model", ["encoder", "pretrained"]), *tuned]
    assert fitted("grey28") == [("augment", list(GREY_VIEWS)), *start]
    assert fitted("large") == [("augment", list(COLOUR_KEYS)), *start]
    assert fitted("grey16") == []  # the digits' kind keeps its small CNN


@pytest.mark.parametrize(
    ("side", "resolution"), [(8, 64), (28, 64), (48, 96), (64, 128), (96, 128), (500, 128)]
)
def test_pretrained_resolution_is_twice_the_side_within_bounds(side: int, resolution: int) -> None:
    from contrastkit.modalities.images.pretrained import pretrained_resolution

    assert pretrained_resolution(side) == resolution


def test_a_pretrained_start_keeps_fit_to_data_and_the_users_keys() -> None:
    from contrastkit.config import fit_defaults
    from contrastkit.modalities.images.pretrained import FINE_TUNING, pretrained_defaults

    given = config_from_dict({"model": {"encoder": "efficientnet_lite1"}, "train": {"lr": 0.01}})
    cfg, lines = fit_defaults(given, pretrained_defaults(given.model, 48, choose=True))
    assert cfg.model.encoder == "efficientnet_lite1" and cfg.model.resolution == 96
    assert cfg.train.lr == 0.01 and cfg.train.epochs == 200  # the user's lr: no fitted train
    assert [line.split(" for ")[0] for line in lines] == [
        "chose model.resolution=96", "chose model.frozen_parts=6"
    ]  # fmt: skip
    given = config_from_dict({"model": {"encoder": "efficientnet_lite0"}})
    fresh, _ = fit_defaults(given, pretrained_defaults(given.model, 48, choose=True))
    assert fresh.train.epochs == FINE_TUNING["epochs"]
    assert fit_to_data(fresh, 300)[1][0].startswith("chose train.batch_size=64 for 300 items")
    given = config_from_dict({"model": {"encoder": "efficientnet_lite0", "freeze": True}})
    frozen, _ = fit_defaults(given, pretrained_defaults(given.model, 48, choose=True))
    assert frozen.train.epochs == 1 and frozen.model.frozen_parts == 0
