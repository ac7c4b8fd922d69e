"""The plan: each point's config, the checks made before any point runs, and which folders
may hold a sweep."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contrastkit.config import config_from_dict
from contrastkit.errors import UserError
from contrastkit.sweep.plan import FORMAT, SWEEP_FILE, make_plan, previous_sweep

DIGITS = "configs/digits_simclr.yaml"


def plan_for(grid: list[str], **kwargs: object):  # type: ignore[no-untyped-def]
    options: dict[str, object] = {
        "config": DIGITS,
        "sets": [],
        "subset": None,
        "epochs": None,
        "sample_size": None,
        "seed": 0,
    }
    return make_plan(grid=grid, **(options | kwargs))  # type: ignore[arg-type]


def test_a_point_runs_the_reduced_protocol_and_its_best_config_does_not() -> None:
    plan = plan_for(["method.temperature=[0.1,0.2]"], sets=["train.lr=0.001"], epochs=3)
    point = plan.points[1]
    data = {"source": "arrays", "path": "/tmp/x.npz"}
    cfg = config_from_dict(plan.point_raw(point, data))
    assert cfg.method.temperature == 0.2  # type: ignore[attr-defined]
    assert cfg.train.epochs == 3 and cfg.train.lr == 0.001
    assert cfg.data.source == "arrays" and cfg.data.path == "/tmp/x.npz"
    assert cfg.eval.baselines is False  # the baselines do not depend on the point
    assert cfg.eval.fewshot_draws == 5  # the config's own evaluation otherwise
    full = config_from_dict(plan.best_raw(point))
    assert full.method.temperature == 0.2  # type: ignore[attr-defined]
    assert full.train.epochs == 200 and full.train.lr == 0.001
    assert full.data.source == "digits" and full.eval.baselines is True


def test_a_baselines_setting_of_the_config_is_kept() -> None:
    plan = plan_for(["seed=[0,1]"], sets=["eval.baselines=true"])
    assert config_from_dict(plan.point_raw(plan.points[0], None)).eval.baselines is True


def test_one_recipe_per_config_file() -> None:
    files = "config=[configs/digits_simclr.yaml,configs/digits_vicreg.yaml]"
    plan = plan_for([files, "train.lr=[0.001,0.002]"], config=None)
    assert len(plan.points) == 4 and set(plan.bases) == {
        "configs/digits_simclr.yaml",
        "configs/digits_vicreg.yaml",
    }
    names = [config_from_dict(plan.point_raw(p, None)).method.name for p in plan.points]
    assert names == ["simclr", "simclr", "vicreg", "vicreg"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"grid": ["augment.crop_scal=[[0.2,1]]"]},
         "--grid augment.crop_scal=[0.2, 1]: unknown key 'augment.crop_scal'; did you mean "
         "'augment.crop_scale'?"),
        ({"grid": ["method.temperature=[0.1,abc]"]},
         "--grid method.temperature=abc: method.temperature: Input should be a valid number"),
        ({"grid": ["augment.crop_scale=[[0.6,0.2]]"]}, "expected [low, high]"),
        ({"grid": ["train.epochs=[1,-2]"]}, "train.epochs: Input should be greater than"),
        ({"grid": ["seed.x=[1]"]}, "'seed' is not a section"),
        ({"grid": ["method.name=[simclr,vicreg]"]},
         "--grid method.name=vicreg: unknown key 'method.temperature'"),
        ({"grid": ["config=[configs/digits_simclr.yaml,configs/digits_vicreg.yaml]",
                   "method.temperature=[0.1]"], "config": None},
         "point p001 (config=configs/digits_vicreg.yaml, method.temperature=0.1): unknown key "
         "'method.temperature'"),
        ({"grid": ["config=[configs/digits_simclr.yaml]"]}, "give one of them"),
        ({"grid": ["seed=[0]"], "config": "nowhere.yaml"}, "config file not found"),
        ({"grid": ["seed=[0]"], "sets": ["train.lr=-1"]}, "train.lr"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_before_anything_runs(kwargs: dict, message: str) -> None:
    with pytest.raises(UserError) as err:
        plan_for(**kwargs)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_a_config_with_the_older_pairs_section_is_read_once_with_one_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    older = tmp_path / "siglip.yaml"
    older.write_text(
        "data: {source: digits_captions}\nmethod: {name: siglip}\n"
        "pairs: {embed_dim: 48, siglip_init_bias: -5.0}\n"
    )
    plan = plan_for(["method.init_scale=[5.0,10.0]"], config=str(older))
    assert capsys.readouterr().err.count("the pairs: section is read as siglip's") == 1
    methods = [config_from_dict(plan.point_raw(p, None)).method for p in plan.points]
    shown = [(m.embed_dim, m.init_bias, m.init_scale) for m in methods]  # type: ignore[union-attr]
    assert shown == [(48, -5.0, 5.0), (48, -5.0, 10.0)]
    assert "pairs" not in capsys.readouterr().err


def test_a_new_or_empty_folder_starts_a_sweep(tmp_path: Path) -> None:
    plan = plan_for(["seed=[0,1]"])
    assert previous_sweep(tmp_path / "new", plan) is None
    assert previous_sweep(tmp_path, plan) is None


def test_the_same_sweep_continues_and_another_is_refused(tmp_path: Path) -> None:
    plan = plan_for(["seed=[0,1]"], epochs=2)
    stored = {"contrastkit_sweep": FORMAT, "plan": plan.identity(), "points": []}
    (tmp_path / SWEEP_FILE).write_text(json.dumps(stored))
    assert previous_sweep(tmp_path, plan_for(["seed=[0,1]"], epochs=2, sample_size=1)) == stored
    for other, field in (
        (plan_for(["seed=[0,2]"], epochs=2), "--grid"),
        (plan_for(["seed=[0,1]"], epochs=3), "--epochs"),
        (plan_for(["seed=[0,1]"], epochs=2, sets=["train.lr=0.01"]), "config or --set"),
        (plan_for(["seed=[0,1]"], epochs=2, subset=100), "--subset"),
    ):
        with pytest.raises(UserError, match=f"holds another sweep \\(its {field} differs\\)"):
            previous_sweep(tmp_path, other)


def test_a_folder_holding_something_else_is_refused(tmp_path: Path) -> None:
    plan = plan_for(["seed=[0,1]"])
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="holds notes.txt and no sweep.json"):
        previous_sweep(tmp_path, plan)
    (tmp_path / SWEEP_FILE).write_text('{"results": []}')
    with pytest.raises(UserError, match="is not a sweep file of contrastkit"):
        previous_sweep(tmp_path, plan)
    (tmp_path / SWEEP_FILE).write_text("{not json")
    with pytest.raises(UserError, match="is not a sweep file of contrastkit"):
        previous_sweep(tmp_path, plan)
    with pytest.raises(UserError, match="exists and is not a folder"):
        previous_sweep(tmp_path / "notes.txt", plan)
