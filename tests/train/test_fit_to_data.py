"""Size-dependent settings derived from the data when the user did not set them."""

from __future__ import annotations

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
