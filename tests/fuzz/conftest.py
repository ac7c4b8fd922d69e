"""Finished tiny runs the fuzz cases read (trained once per test process), and a fresh
copy of one per test, so a case that writes into its run cannot touch another's."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from tests.fuzz.corpus import CONFIGS, TINY
from tests.fuzz.harness import run_cli


def _train(root: Path, args: list[str]) -> Path:
    out = root / "run"
    outcome = run_cli(["train", "--out", str(out), *args, *TINY], cwd=root)
    assert outcome.code == 0 and outcome.traceback is None, (outcome.stderr, outcome.traceback)
    return out


@pytest.fixture(scope="session")
def image_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """SimCLR on the bundled digits."""
    return _train(
        tmp_path_factory.mktemp("image"), ["--config", str(CONFIGS / "digits_simclr.yaml")]
    )


def table_csv(path: Path, rows: int = 60) -> Path:
    """A labelled CSV of two numeric columns and a category, two classes."""
    rng = np.random.default_rng(0)
    lines = ["a,b,colour,label"]
    for i in range(rows):
        lines.append(f"{rng.normal(i % 2, 1):.3f},{rng.normal():.3f},{'rgb'[i % 3]},{'xy'[i % 2]}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="session")
def table_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """SCARF on a small CSV table."""
    root = tmp_path_factory.mktemp("table")
    data = table_csv(root / "table.csv")
    args = ["--config", str(CONFIGS / "tabular_scarf.yaml"), "--set", "data.source=csv"]
    args += ["--set", f"data.path={data}", "--set", "data.label=label"]
    args += ["--set", "eval.tabular_budgets=[2]"]
    return _train(root, args)


@pytest.fixture(scope="session")
def text_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """SimCSE on a few lines with the tests' tiny BERT."""
    from tests.text.conftest import make_tiny_model

    root = tmp_path_factory.mktemp("text")
    model = make_tiny_model(root / "bert")
    lines = root / "lines.txt"
    words = ["red fox", "blue sea", "green tree", "old dog", "small cat", "dark sky"]
    lines.write_text("".join(f"the {w} is here {i}\n" for i in range(4) for w in words))
    args = ["--config", str(CONFIGS / "text_simcse.yaml"), "--set", "data.source=text_lines"]
    args += ["--set", f"data.path={lines}", "--set", f"text.model={model}"]
    return _train(root, args)


def copy_run(run: Path, where: Path) -> Path:
    """A copy of `run` at `where` (hidden files included)."""
    shutil.copytree(run, where, symlinks=True)
    return where


@pytest.fixture
def image_copy(image_run: Path, tmp_path: Path) -> Path:
    return copy_run(image_run, tmp_path / "runs" / "a")
