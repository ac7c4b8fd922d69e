"""Run the CLI in-process and classify how it ended: exit code, stderr lines, traceback."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import sys
import traceback
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from contrastkit.cli import main


@dataclass(frozen=True)
class Outcome:
    code: int
    stderr: str
    traceback: str | None
    stdout: str = ""

    @property
    def clean_error(self) -> bool:
        """Exit 2, one line on stderr that says something in every parenthesis, no
        traceback: what every bad input must give."""
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        said = len(lines) == 1 and "()" not in lines[0] and "( )" not in lines[0]
        return self.code == 2 and said and self.traceback is None


class Hang(BaseException):
    """A command ran past its time limit (`run_cli(timeout_s=...)`)."""


HANG = 124
"""The exit code `run_cli` reports for a command stopped at its time limit."""


def _alarm(_signum: int, _frame: object) -> None:
    raise Hang


def run_cli(args: list[str], cwd: Path, *, timeout_s: int = 0) -> Outcome:
    """`contrastkit ARGS` in this process, in `cwd`; an exception that escapes `main` is the
    traceback a user would have seen. With `timeout_s`, a command still running then is
    stopped and reported as a hang (exit `HANG`)."""
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
            previous = signal.signal(signal.SIGALRM, _alarm)
            signal.alarm(timeout_s)
            try:
                main()
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else 1
            except Hang:
                code = HANG
            except BaseException:  # noqa: BLE001 - what escapes is the finding
                trace = traceback.format_exc()
                code = 1
            finally:
                signal.alarm(0)
                signal.signal(signal.SIGALRM, previous)
    finally:
        sys.argv = old_argv
        os.chdir(old_cwd)
        mp.undo()
    shown = "".join(
        f"{w.filename}:{w.lineno}: {w.category.__name__}: {w.message}\n" for w in caught
    )
    return Outcome(code=code, stderr=err.getvalue() + shown, traceback=trace, stdout=out.getvalue())


def findings(
    outcome: Outcome,
    lost: Sequence[str] = (),
    *,
    code: int = 2,
    said: Sequence[str] = (),
) -> list[str]:
    """What went wrong in a case, all at once: a traceback (its last line), files lost,
    another exit code than `code`, not one clean line (exit 2), words missing from stderr.
    A case passes when this is empty."""
    found = []
    if outcome.code == HANG:
        found.append(f"hang: still running at its time limit: {outcome.stderr.strip()[-200:]}")
    if outcome.traceback is not None:
        found.append(f"traceback: {outcome.traceback.strip().splitlines()[-1][:300]}")
    found += [f"lost: {line}" for line in lost]
    if outcome.code != code:
        found.append(f"exit {outcome.code}, expected {code}: {outcome.stderr.strip()[-300:]}")
    elif code == 2 and not outcome.clean_error:
        found.append(f"not one clean line: {outcome.stderr.strip()[-300:]}")
    found += [
        f"does not say {w!r}: {outcome.stderr.strip()[-300:]}"
        for w in said
        if w not in outcome.stderr
    ]
    return found


def expect_none(found: list[str]) -> None:
    """Fail with every finding, one per line."""
    assert not found, "\n".join(found)
