"""Values the config used to accept but training rejected (or trained on as NaN) are
refused by the config itself, with the dotted key and the allowed range (issue 17)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from contrastkit.augment.options import AugmentConfig
from contrastkit.config import load_config
from contrastkit.errors import UserError
from contrastkit.train.options import TrainConfig

CONFIGS = Path(__file__).parents[1] / "configs"

FRACTION = "expected [low, high] with 0 < low <= high <= 1"
POSITIVE = "expected [low, high] with 0 < low <= high"
LABELS = "expected a non-empty list of distinct class labels >= 0"
FINITE = "Input should be a finite number"

REFUSED = [
    ("augment.crop_scale=[0.9,0.1]", f"augment.crop_scale: {FRACTION} (got [0.9, 0.1])"),
    ("augment.crop_scale=[0,0.5]", f"augment.crop_scale: {FRACTION}"),
    ("augment.crop_scale=[0.5,1.5]", f"augment.crop_scale: {FRACTION}"),
    ("augment.crop_scale=[.nan,1]", "augment.crop_scale.0: Input should be a finite number"),
    ("augment.local_crop_scale=[0.4,0.05]", f"augment.local_crop_scale: {FRACTION}"),
    ("augment.crop_ratio=[1.33,0.75]", f"augment.crop_ratio: {POSITIVE} (got [1.33, 0.75])"),
    ("augment.crop_ratio=[0,1]", f"augment.crop_ratio: {POSITIVE}"),
    ("augment.blur_sigma=[1.0,0.1]", "augment.blur_sigma: expected [low, high] with 0 <= low"),
    ("augment.blur_sigma=[-0.1,1]", "augment.blur_sigma: expected [low, high] with 0 <= low"),
    ("augment.blur_sigma=[0.1,.inf]", "augment.blur_sigma.1: Input should be a finite number"),
    ("augment.noise_std=.inf", "augment.noise_std: Input should be a finite number (got inf)"),
    ("augment.size=1", "augment.size: Input should be greater than or equal to 2 (got 1)"),
    ("augment.local_size=1", "augment.local_size: Input should be greater than or equal to 2"),
    ("train.lr=.inf", "train.lr: Input should be a finite number (got inf)"),
    ("train.lr=.nan", "train.lr: Input should be a finite number (got nan)"),
    ("train.weight_decay=.inf", "train.weight_decay: Input should be a finite number"),
    ("train.grad_clip=.inf", "train.grad_clip: Input should be a finite number"),
    ("health.min_rankme=.nan", "health.min_rankme: Input should be a finite number"),
    ("eval.knn_temperature=.inf", "eval.knn_temperature: Input should be a finite number"),
    ("eval.classes=[1,1]", f"eval.classes: {LABELS}"),
    ("eval.classes=[-1,2]", f"eval.classes: {LABELS}"),
    ("eval.tabular_budgets=[0,5]", "eval.tabular_budgets: expected a non-empty list of integers"),
    ("data.image_size=1", "data.image_size: Input should be greater than or equal to 2 (got 1)"),
    ("data.split_seed=-1", "data.split_seed: Input should be greater than or equal to 0 (got -1)"),
    ("seed=-1", "seed: Input should be greater than or equal to 0 (got -1)"),
    ("data.test_fraction=.nan", "data.test_fraction: Input should be a finite number"),
    ("data.train_classes=[]", f"data.train_classes: {LABELS}"),
    ("method.name=clip method.init_temperature=.inf", f"method.init_temperature: {FINITE}"),
    ("method.name=siglip method.init_bias=-.inf", f"method.init_bias: {FINITE}"),
    ("audio.clip_seconds=.inf", "audio.clip_seconds: Input should be a finite number"),
]  # fmt: skip


@pytest.mark.parametrize(("override", "message"), REFUSED, ids=[o for o, _ in REFUSED])
def test_the_config_refuses_the_value_naming_key_and_range(override: str, message: str) -> None:
    with pytest.raises(UserError) as info:
        load_config(None, override.split())
    assert str(info.value).startswith(f"defaults (with --set): {message}")
    assert "\n" not in str(info.value)


ACCEPTED = [
    "augment.crop_scale=[1.0,1.0]",
    "augment.crop_scale=[0.08,1]",
    "augment.crop_ratio=[0.5,0.5]",
    "augment.blur_sigma=[0,0]",
    "augment.local_crop_scale=[0.05,0.4]",
    "augment.size=2",
    "data.image_size=2",
    "train.grad_clip=null",
    "method.name=siglip method.init_bias=-4.85",
    "eval.classes=[0,3,7]",
    "data.train_classes=null",
    "data.split_seed=0",
]


@pytest.mark.parametrize("override", ACCEPTED)
def test_edges_of_the_ranges_are_accepted(override: str) -> None:
    load_config(None, override.split())


def test_assignments_are_checked_too() -> None:
    augment = AugmentConfig()
    with pytest.raises(ValidationError, match="0 < low <= high <= 1"):
        augment.crop_scale = (0.9, 0.1)
    train = TrainConfig()
    with pytest.raises(ValidationError, match="finite number"):
        train.lr = float("inf")


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_config_is_still_accepted(path: Path) -> None:
    load_config(path)
