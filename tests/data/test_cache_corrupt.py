"""A decoded-image cache cut short or altered is decoded again with a note, through the CLI
(it used to end in a traceback)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.data.images import make_folder
from tests.fuzz.harness import run_cli

TINY = [
    "--no-progress",
    "--set",
    "train.epochs=1",
    "--set",
    "model.width=4",
    "--set",
    "model.feature_dim=8",
    "--set",
    "eval.baselines=false",
    "--set",
    "eval.fewshot_draws=1",
    "--set",
    "health.every=0",
]


@pytest.mark.parametrize("junk", [b"", b"\\x93NUMPY junk", b"{not json"])
def test_corrupt_cache_is_rebuilt(tmp_path: Path, junk: bytes) -> None:
    data = make_folder(tmp_path / "imgs", ["a", "b"], per_class=6)
    cache = tmp_path / "cache"
    args = ["train", "--data", str(data), "--set", "data.cache=true"]
    args += ["--set", f"data.cache_dir={cache}", *TINY]
    assert run_cli([*args, "--out", str(tmp_path / "r1")], cwd=tmp_path).code == 0
    for path in cache.iterdir():
        path.write_bytes(junk)
    again = run_cli([*args, "--out", str(tmp_path / "r2")], cwd=tmp_path)
    assert again.traceback is None, again.traceback
    assert again.code == 0, again.stderr
