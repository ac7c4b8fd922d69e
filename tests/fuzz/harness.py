"""Run the CLI in-process and classify how it ended: exit code, stderr lines, traceback."""

from __future__ import annotations

import contextlib
import io
import os
import sys
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

from contrastkit.cli import main


@dataclass(frozen=True)
class Outcome:
    code: int
    stderr: str
    traceback: str | None

    @property
    def clean_error(self) -> bool:
        """Exit 2, one line on stderr that says something in every parenthesis, no
        traceback: what every bad input must give."""
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        said = len(lines) == 1 and "()" not in lines[0] and "( )" not in lines[0]
        return self.code == 2 and said and self.traceback is None


def run_cli(args: list[str], cwd: Path) -> Outcome:
    """`contrastkit ARGS` in this process, in `cwd`; an exception that escapes `main` is the
    traceback a user would have seen."""
    err, out = io.StringIO(), io.StringIO()
    old_argv, old_cwd = sys.argv, os.getcwd()
    sys.argv = ["contrastkit", *args]
    code, trace = 0, None
    os.chdir(cwd)
    mp = pytest.MonkeyPatch()
    mp.setenv("COLUMNS", "400")
    try:
        with (
            contextlib.redirect_stderr(err),
            contextlib.redirect_stdout(out),
            warnings.catch_warnings(record=True) as caught,
        ):
            warnings.simplefilter("always")
            try:
                main()
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else 1
            except BaseException:  # noqa: BLE001 - what escapes is the finding
                trace = traceback.format_exc()
                code = 1
    finally:
        sys.argv = old_argv
        os.chdir(old_cwd)
        mp.undo()
    shown = "".join(
        f"{w.filename}:{w.lineno}: {w.category.__name__}: {w.message}\n" for w in caught
    )
    return Outcome(code=code, stderr=err.getvalue() + shown, traceback=trace)
