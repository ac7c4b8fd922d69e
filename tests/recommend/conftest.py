"""A recommender trained through the CLI on the generated interactions (2 epochs, about
2 s), shared by the recommendation tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.use.conftest import run_cli

CONFIG = "configs/interactions_two_tower.yaml"


@pytest.fixture(scope="session")
def rec_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("rec") / "run"
    mp = pytest.MonkeyPatch()
    args = ["train", "--config", CONFIG, "--out", str(out), "--no-progress"]
    try:
        assert run_cli(mp, *args, "--set", "train.epochs=2") == 0
    finally:
        mp.undo()
    return out
