"""Size-dependent settings derived from the data when the user did not set them."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from contrastkit.config import config_from_dict, fit_to_data


def test_batch_and_warmup_are_chosen_for_small_data() -> None:
    cfg = config_from_dict({"train": {"epochs": 10}})
    lines = fit_to_data(cfg, 300)
    assert cfg.train.batch_size == 64 and cfg.train.warmup_epochs == 1
    assert lines == [
        "chose train.batch_size=64 for 300 items (was 256, 1 step(s) per epoch); "
        "set it to override",
        "chose train.warmup_epochs=1 for a run of 10 epochs (was 10); set it to override",
    ]


def test_values_the_user_set_are_kept_with_a_warning() -> None:
    cfg = config_from_dict({"train": {"epochs": 10, "batch_size": 256, "warmup_epochs": 8}})
    lines = fit_to_data(cfg, 300)
    assert cfg.train.batch_size == 256 and cfg.train.warmup_epochs == 8
    assert [line.split(":")[0] for line in lines] == ["warning", "warning"]


def test_the_digits_recipe_is_unchanged() -> None:
    cfg = config_from_dict({"train": {"epochs": 200, "batch_size": 256}})
    assert fit_to_data(cfg, 1257) == [] and cfg.train.batch_size == 256


def test_colour_views_are_chosen_only_when_no_augment_key_is_set() -> None:
    from contrastkit.augment.options import COLOUR_VIEWS
    from contrastkit.config import fit_augment

    cfg = config_from_dict({})
    lines = fit_augment(cfg, dict(COLOUR_VIEWS))
    assert cfg.augment.hflip_prob == 0.5 and cfg.augment.jitter_prob == 0.8
    assert cfg.augment.crop_scale == (0.2, 1.0) and cfg.augment.rotation_deg == 0.0
    assert cfg.augment.blur_prob == 0.5  # a default the colour views keep
    assert lines[0].startswith("chose augment crop_scale=(0.2, 1.0), hflip_prob=0.5")
    assert lines[0].endswith("for colour images; set any augment key to override")
    kept = config_from_dict({"augment": {"rotation_deg": 5.0}})
    assert fit_augment(kept, dict(COLOUR_VIEWS)) == [] and kept.augment.hflip_prob == 0.0
    grey = config_from_dict({})
    assert fit_augment(grey, None) == [] and grey.augment.rotation_deg == 15.0


def test_a_colour_folder_asks_for_colour_views_and_grey_data_do_not(tmp_path: Path) -> None:
    from contrastkit.config import settings_of
    from contrastkit.modalities.registry import modality_for

    for colour, name in ((True, "rgb"), (False, "grey")):
        for cls in ("a", "b"):
            (tmp_path / name / cls).mkdir(parents=True)
            for i in range(3):
                mode = "RGB" if colour else "L"
                Image.new(mode, (8, 8), (200, 10, 10) if colour else 99).save(
                    tmp_path / name / cls / f"{i}.png"
                )
    rgb = config_from_dict({"data": {"source": "folder", "path": str(tmp_path / "rgb")}})
    grey = config_from_dict({"data": {"source": "folder", "path": str(tmp_path / "grey")}})
    assert modality_for(settings_of(rgb)).fitted_augment() is not None
    assert modality_for(settings_of(grey)).fitted_augment() is None
    assert modality_for(settings_of(config_from_dict({}))).fitted_augment() is None  # digits
