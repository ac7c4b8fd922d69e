"""May a command write (or replace) the folder a user named? Checked before any work.

A command that writes a whole folder (`export --out`) replaces an existing one only when
`--overwrite` is given *and* the folder is one the command wrote itself (it carries the
command's own marker file). Never replaced, whatever the flags: the current folder or one
holding it, a run directory, a folder holding the run being read, or a folder holding any
run. `contrastkit train` has its own rule (`rundir.check_new_run_dir`).

Example:
    >>> check_folder_output(Path("runs/a/export"), run=Path("runs/a"), overwrite=True,
    ...                     is_own=is_export, what="export")
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from contrastkit.errors import UserError
from contrastkit.rundir import is_run_dir
from contrastkit.temporaries import sweep_stale

MAX_ENTRIES = 10_000
"""Entries of a folder to be replaced that are looked through for a run; a folder with
more is not one a command wrote, and is refused."""


def _run_inside(folder: Path) -> Path | None:
    """A run directory at or below `folder`, or None; `folder` itself when it holds more
    than `MAX_ENTRIES` entries (too big to be a command's output: treated as holding one).
    Symbolic links to folders are not followed."""
    seen = 0
    for dirpath, dirnames, filenames in os.walk(folder):
        here = Path(dirpath)
        if is_run_dir(here):
            return here
        seen += len(dirnames) + len(filenames)
        if seen > MAX_ENTRIES:
            return folder
    return None


def _contains(outer: Path, inner: Path) -> bool:
    """Whether `inner` is `outer` or lies below it (both resolved)."""
    return outer == inner or outer in inner.parents


def check_folder_output(
    out: Path,
    *,
    run: Path,
    overwrite: bool,
    is_own: Callable[[Path], bool],
    what: str,
    option: str = "--out",
) -> None:
    """Refuse an output folder whose replacement could lose a user's files.

    Args:
        out: The folder the command will write (replacing it when it exists).
        run: The run the command reads.
        overwrite: The user passed --overwrite.
        is_own: Whether an existing folder was written by this command (its marker file).
        what: The command's output, for messages ("export").

    The stale temporaries beside `out` are swept first (`temporaries.sweep_stale`).

    Raises:
        UserError: `out` is empty or the current folder (or holds it), is or holds the
            run `run`, is a run or holds one, is a file, was not written by the command,
            or exists without `overwrite`. Each message names the folder and the choice
            left.
    """
    if str(out).strip() in ("", "."):
        raise UserError(
            f"{option} {str(out)!r}: the current folder; name a new folder for the {what}"
        )
    target = out.resolve()
    sweep_stale(target.parent)  # a replacement killed half-way puts the old folder back
    if _contains(target, Path.cwd().resolve()):
        raise UserError(
            f"{option} {out}: is the current folder or holds it; name a new folder for the {what}"
        )
    if _contains(target, run.resolve()):
        raise UserError(
            f"{option} {out}: is the run {run} or holds it; the {what} needs a folder of its "
            f"own, e.g. {run / what}"
        )
    if not target.exists():
        return
    if not target.is_dir():
        raise UserError(f"{option} {out}: is a file, not a folder")
    if is_run_dir(target):
        raise UserError(f"{option} {out}: is a run directory; name a new folder for the {what}")
    if not any(target.iterdir()):
        return
    if not is_own(target):
        raise UserError(
            f"{option} {out}: holds files that contrastkit {what} did not write; name a new "
            f"folder (--overwrite only replaces an earlier {what})"
        )
    inside = _run_inside(target)
    if inside == target:
        raise UserError(
            f"{option} {out}: holds more than {MAX_ENTRIES:,} files, more than a {what} "
            "writes; name a new folder"
        )
    if inside is not None:
        raise UserError(f"{option} {out}: holds a run ({inside}); name a new folder")
    if not overwrite:
        raise UserError(f"{option} {out}: exists; pass --overwrite to replace it")
