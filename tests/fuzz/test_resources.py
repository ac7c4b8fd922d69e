"""Inputs whose size alone is the problem: a table of a million columns is refused at its
header (a documented limit) instead of hanging; a text line of many megabytes is cut to
what the tokenizer can use before it is tokenised."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from tests.fuzz.corpus import table
from tests.fuzz.harness import expect_none, findings, run_cli
from tests.fuzz.snapshot import Snapshot

from contrastkit.data.table import MAX_COLUMNS

WIDE = 1_000_000


def _wide_csv(path: Path) -> bytes:
    header = ",".join(f"c{i}" for i in range(WIDE)).encode()
    row = b",".join([b"1"] * WIDE)
    return header + b"\n" + row + b"\n" + row + b"\n" + row + b"\n"


def test_a_million_columns_are_refused_at_the_header(tmp_path: Path) -> None:
    args = [
        "train",
        "--out",
        str(tmp_path / "run"),
        *table(tmp_path, "wide.csv", _wide_csv(tmp_path)),
    ]
    outcome = run_cli(args, cwd=tmp_path, timeout_s=60)
    expect_none(findings(outcome, said=("wide.csv", f"{WIDE:,} columns", f"{MAX_COLUMNS:,}")))


def test_a_table_run_refuses_a_million_columns(table_run: Path, tmp_path: Path) -> None:
    data = tmp_path / "wide.csv"
    data.write_bytes(_wide_csv(data))
    before = Snapshot(table_run)
    args = ["embed", "--run", str(table_run), "--data", str(data), "--out", "e.npy"]
    outcome = run_cli(args, cwd=tmp_path, timeout_s=60)
    expect_none(findings(outcome, before.lost(), said=("wide.csv", f"{MAX_COLUMNS:,}")))


def test_embed_cuts_a_huge_line_before_tokenising(text_run: Path, tmp_path: Path) -> None:
    """A 50 MB line embeds as its first 20,000 characters do (far more than the run's
    max_length tokens cover), in seconds."""
    words = "the red fox is here " * 2_500_000
    (tmp_path / "huge.txt").write_text(f"a short line\n{words}\n")
    (tmp_path / "cut.txt").write_text(f"a short line\n{words[:20_000]}\n")
    before = Snapshot(text_run)
    for name in ("huge", "cut"):
        args = ["embed", "--run", str(text_run), "--data", f"{name}.txt", "--out", f"{name}.npy"]
        expect_none(findings(run_cli(args, cwd=tmp_path, timeout_s=120), before.lost(), code=0))
    huge, cut = np.load(tmp_path / "huge.npy"), np.load(tmp_path / "cut.npy")
    np.testing.assert_allclose(huge, cut, atol=1e-6)
