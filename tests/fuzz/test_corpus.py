"""Every broken file of the corpus, through the real CLI: exit 2, one line, no traceback,
and every file that was there before (the broken input and its neighbours) unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.fuzz.corpus import CASES, Case
from tests.fuzz.harness import expect_none, findings, run_cli
from tests.fuzz.snapshot import Snapshot


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_broken_input_gives_one_clean_line(case: Case, tmp_path: Path) -> None:
    args = case.make(tmp_path)
    before = Snapshot(tmp_path)
    outcome = run_cli(["train", "--out", str(tmp_path / "run"), *args], cwd=tmp_path, timeout_s=300)
    expect_none(findings(outcome, before.lost()))
    assert not (tmp_path / "PWNED_BY_PICKLE").exists()


def test_corpus_size() -> None:
    """The count the issue asks for: how many bad inputs the suite tries."""
    assert len({c.name for c in CASES}) == len(CASES) >= 100
