"""The grid: `--grid` options, their product, the augmentation preset, seeded samples."""

from __future__ import annotations

import pytest

from contrastkit.errors import UserError
from contrastkit.sweep.grid import expand, parse_grid, sample
from contrastkit.sweep.presets import AUGMENTATIONS, OFF, augment_settings, compositions


def test_the_product_varies_the_first_key_slowest() -> None:
    axes = parse_grid(
        ["augment.crop_scale=[[0.08,1],[0.2,1],[0.6,1]]", "method.temperature=[0.1,0.2,0.5]"]
    )
    points = expand(axes)
    assert len(points) == 9
    assert [p.index for p in points] == list(range(9))
    assert [p.id for p in points[:2]] == ["p000", "p001"]
    assert points[0].settings == {"augment.crop_scale": [0.08, 1], "method.temperature": 0.1}
    assert points[1].overrides == {"augment.crop_scale": [0.08, 1], "method.temperature": 0.2}
    assert points[3].settings == {"augment.crop_scale": [0.2, 1], "method.temperature": 0.1}
    assert points[8].choice == (2, 2)


def test_keys_joined_by_commas_take_each_value_together() -> None:
    axes = parse_grid(["augment.brightness,augment.contrast=[0.4,0.8]", "seed=[3]"])
    first, second = expand(axes)
    assert first.settings == {"augment.brightness,augment.contrast": 0.4, "seed": 3}
    assert first.overrides["augment.brightness"] == first.overrides["augment.contrast"] == 0.4
    assert second.overrides["augment.brightness"] == second.overrides["augment.contrast"] == 0.8


def test_pairs_are_seven_singles_and_twenty_one_pairs() -> None:
    points = expand(parse_grid(["augment=pairs"]))
    names = [p.settings["augment"] for p in points]
    assert len(points) == 7 + 21
    assert names[:7] == list(AUGMENTATIONS)
    assert names[7:10] == ["crop+jitter", "crop+blur", "crop+flip"]
    assert names[-1] == "noise+rotation"
    assert len(set(names)) == 28


def test_a_composition_sets_every_switch() -> None:
    [point] = expand(parse_grid(["augment=[crop+blur]"]))
    expected = {f"augment.{k}": v for k, v in OFF.items()}
    expected |= {
        "augment.crop_scale": [0.2, 1.0],
        "augment.crop_ratio": [0.75, 1.3333],
        "augment.blur_prob": 0.5,
        "augment.blur_sigma": [0.1, 1.0],
    }
    assert point.overrides == expected
    assert augment_settings(())["crop_scale"] == [1.0, 1.0]  # 'none': the image itself
    assert augment_settings(("jitter",))["brightness"] == 0.4


@pytest.mark.parametrize(
    ("value", "count"),
    [("singles", 7), ("pairs:crop,jitter,blur", 6), ("singles:flip,noise", 2),
     (["crop", "blur+crop", "none"], 3)],
)  # fmt: skip
def test_preset_forms(value: object, count: int) -> None:
    found = compositions(value, "--grid augment")
    assert len(found) == count
    if isinstance(value, list):
        assert found == [("crop",), ("crop", "blur"), ()]  # in the preset's order


def test_a_sample_is_seeded_and_grows_by_keeping_what_it_chose() -> None:
    points = expand(parse_grid(["augment=pairs"]))
    five, ten = sample(points, 5, seed=0), sample(points, 10, seed=0)
    assert len(five) == 5 and len(ten) == 10
    assert {p.index for p in five} <= {p.index for p in ten}
    assert [p.index for p in ten] == sorted(p.index for p in ten)  # in grid order
    assert [p.index for p in sample(points, 5, seed=0)] == [p.index for p in five]
    assert [p.index for p in sample(points, 5, seed=1)] != [p.index for p in five]
    assert sample(points, 99, seed=0) == points and sample(points, None, seed=0) == points


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ([], "empty grid"),
        (["method.temperature=[]"], "an empty list of values"),
        (["method.temperature=0.1"], "expected a list of values in brackets"),
        (["method.temperature"], "expected KEY=[v1,v2,...]"),
        (["=[1]"], "an empty key before '='"),
        (["augment.brightness,=[1]"], "an empty key before '='"),
        (["seed,seed=[0]"], "--grid seed: given twice"),
        (["method.temperature=[0.1, 0.1]"], "a value is listed twice"),
        (["seed=[0]", "seed=[1]"], "--grid seed: given twice"),
        (["method.temperature=[0.1"], "not valid YAML"),
        (["augment=pairz"], "expected pairs, singles"),
        (["augment=pairs:crop,blurr"], "unknown augmentation 'blurr'; did you mean 'blur'?"),
        (["augment=[crop, crop]"], "listed twice"),
        (["augment=[crop+crop]"], "names an augmentation twice"),
        (["augment=pairs", "augment.crop_scale=[[0.2,1]]"], "preset already sets"),
        (["augment=pairs", "augment.size,augment.hue=[0.1]"], "preset already sets augment.hue"),
        (["config=[1, 2]"], "expected a list of config file paths"),
    ],
)
def test_bad_grids_say_what_is_wrong(grid: list[str], message: str) -> None:
    with pytest.raises(UserError, match=message.replace("[", r"\[").replace("?", r"\?")):
        parse_grid(grid)
