"""Run directories whose config.yaml has the `pairs:` section (written before CLIP and SigLIP
had their own method sections) still load for eval, embed and the report: the section is
read into the method's keys, with one note; other methods' runs drop it silently."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from tests.export.runs import IMAGE, PAIRS, make_run

from contrastkit.config import load_config
from contrastkit.errors import UserError
from contrastkit.run import load_run
from contrastkit.rundir import CONFIG
from contrastkit.use import embed_run

SHARED = ("embed_dim", "text_width", "text_max_len", "text_alphabet", "gather", "similarity_pairs")


def _write_pairs_section(run: Path) -> None:
    """config.yaml as the earlier versions wrote it: every pairs key, both objectives'."""
    raw = yaml.safe_load((run / CONFIG).read_text())
    method = raw["method"]
    pairs = {key: method.pop(key) for key in SHARED}
    pairs["init_temperature"] = method.pop("init_temperature", 0.07)
    pairs["siglip_init_scale"] = method.pop("init_scale", 10.0)
    pairs["siglip_init_bias"] = method.pop("init_bias", None)
    raw["pairs"] = pairs
    (run / CONFIG).write_text(yaml.safe_dump(raw, sort_keys=False))


def test_a_siglip_run_with_a_pairs_section_loads_and_embeds_the_same(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = make_run(tmp_path / "run", "digits_text_siglip.yaml", PAIRS)
    before, _, _ = load_run(run)
    embed_run(run, "train", tmp_path / "now.npy", log=lambda _m: None)
    _write_pairs_section(run)
    capsys.readouterr()
    after, _, method = load_run(run)
    assert after.method == before.method and after.method.name == "siglip"
    assert after.method.embed_dim == 8 and after.method.init_bias == -10.0
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "the pairs: section is read as siglip's own keys (method.embed_dim," in err
    assert str(run / CONFIG) in err
    embed_run(run, "train", tmp_path / "old.npy", log=lambda _m: None)
    assert np.array_equal(np.load(tmp_path / "now.npy"), np.load(tmp_path / "old.npy"))


def test_an_image_run_with_a_pairs_section_drops_it_quietly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = make_run(tmp_path / "run", "digits_simclr.yaml", IMAGE)
    raw = yaml.safe_load((run / CONFIG).read_text())
    raw["pairs"] = {"embed_dim": 64, "siglip_init_bias": None}
    (run / CONFIG).write_text(yaml.safe_dump(raw, sort_keys=False))
    cfg, _, _ = load_run(run)
    assert cfg.method.name == "simclr" and capsys.readouterr().err == ""


def test_a_config_file_with_a_pairs_section_is_read_the_same() -> None:
    notes: list[str] = []
    cfg = load_config(
        None,
        ["method.name=clip", "pairs.embed_dim=16", "pairs.siglip_init_bias=-3"],
        note=notes.append,
    )
    assert cfg.method == load_config(None, ["method.name=clip", "method.embed_dim=16"]).method
    assert len(notes) == 1 and "(method.embed_dim)" in notes[0]
    set_both = ["method.name=clip", "method.embed_dim=32", "pairs.embed_dim=16"]
    assert load_config(None, set_both, note=notes.append).method.embed_dim == 32
    with pytest.raises(UserError, match=r"unknown key 'pairs.embed_dims' \(valid: embed_dim,"):
        load_config(None, ["method.name=clip", "pairs.embed_dims=16"])
