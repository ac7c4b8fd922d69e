"""Tiny trained runs shared by the use tests (digits SimCLR, wine SCARF, digit captions SigLIP)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from contrastkit.cli import main

TINY_EVAL = ["eval.fewshot_draws=2", "eval.supervised_steps=3", "eval.baselines=false"]


def run_cli(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    """`contrastkit ARGS` in-process; the exit code (0 when it returns)."""
    monkeypatch.setattr(sys, "argv", ["contrastkit", *args])
    try:
        main()
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


def _train(tmp: pytest.TempPathFactory, name: str, config: str, sets: list[str]) -> Path:
    out = tmp.mktemp("runs") / name
    mp = pytest.MonkeyPatch()
    args = ["train", "--config", config, "--out", str(out), "--no-progress"]
    for item in sets:
        args += ["--set", item]
    try:
        assert run_cli(mp, *args) == 0
    finally:
        mp.undo()
    return out


@pytest.fixture(scope="session")
def digits_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sets = ["train.epochs=1", "model.width=4", "model.feature_dim=16", *TINY_EVAL]
    return _train(tmp_path_factory, "digits", "configs/digits_simclr.yaml", sets)


@pytest.fixture(scope="session")
def wine_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sets = [
        "data.source=wine",
        "train.epochs=2",
        "train.warmup_epochs=0",
        "model.width=16",
        "model.feature_dim=8",
        "model.proj_hidden_dim=16",
        "model.proj_dim=8",
        "eval.fewshot_draws=2",
        "eval.tabular_budgets=[2]",
    ]
    return _train(tmp_path_factory, "wine", "configs/tabular_scarf.yaml", sets)


@pytest.fixture(scope="session")
def captions_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sets = ["train.epochs=1", "model.width=4", "train.warmup_epochs=0", *TINY_EVAL]
    return _train(tmp_path_factory, "captions", "configs/digits_text_siglip.yaml", sets)
