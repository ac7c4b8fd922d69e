"""Hidden temporaries that name their owner's process, and the sweep that removes those of
processes that are gone.

A command writes a file or a folder under a hidden name beside its final place and renames
it into place once complete (`atomic.py`, the export and index folders). A process killed
meanwhile (kill -9, a power cut) leaves that temporary behind. Its name says who owned it:

    .<final name>.ck<pid>-<random>.tmp    being written
    .<final name>.ck<pid>-<random>.old    the folder it replaces, moved aside for a moment

`sweep_stale(folder)` runs whenever a new temporary is made in `folder`: it deletes the
`.tmp` of processes that no longer run, and puts a stale `.old` back under its final name
when that name is free (the replacement never arrived), else deletes it. The temporaries
of a running process (any user's) are never touched.

Example:
    >>> fd, tmp = make_temp_file(Path("runs/a"), "checkpoint.pt")   # sweeps runs/a first
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

TEMP_PATTERN = re.compile(r"^\.(?P<name>.+)\.ck(?P<pid>\d+)-[0-9a-f]{8}\.(?P<kind>tmp|old)$")
"""A temporary's name: its final name, the owner's pid, a random tag, and its kind."""
T = TypeVar("T")


def temp_path(folder: Path, name: str, kind: str = "tmp") -> Path:
    """A fresh hidden name in `folder` for a temporary of `name` owned by this process
    (nothing is created)."""
    return folder / f".{name}.ck{os.getpid()}-{secrets.token_hex(4)}.{kind}"


def pid_alive(pid: int) -> bool:
    """Whether a process `pid` runs (one of another user counts as running)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def sweep_stale(folder: Path) -> list[Path]:
    """Remove the temporaries in `folder` whose owning process is gone (see the module
    docstring); returns what was removed or put back. A folder that cannot be listed or
    changed is left as it is."""
    swept: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return swept
    for entry in entries:
        found = TEMP_PATTERN.match(entry.name)
        if found is None or pid_alive(int(found["pid"])):
            continue
        path = Path(entry.path)
        final = folder / found["name"]
        try:
            if found["kind"] == "old" and not os.path.lexists(final):
                os.replace(path, final)  # the replacement never arrived: the old one stays
            else:
                _remove(path)
        except OSError:
            continue
        swept.append(path)
    return swept


def _fresh(folder: Path, name: str, create: Callable[[Path], T]) -> T:
    """`create(path)` at the first fresh temporary name for `name` in `folder`, after
    sweeping `folder`."""
    sweep_stale(folder)
    while True:
        try:
            return create(temp_path(folder, name))
        except FileExistsError:
            continue


def make_temp_file(folder: Path, name: str) -> tuple[int, Path]:
    """Create (exclusively, mode 0600) a temporary file for `name` in `folder` after
    sweeping `folder`; returns its open descriptor and path.

    Raises:
        OSError: the folder cannot be written.
    """
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL
    return _fresh(folder, name, lambda path: (os.open(path, flags, 0o600), path))


def replace_folder(staging: Path, final: Path) -> None:
    """Rename the complete folder `staging` to `final` (both in one folder). An existing
    `final` is moved aside under a `.old` temporary first and deleted after; a process
    killed in between leaves it for `sweep_stale` to put back.

    Raises:
        OSError: a rename failed (nothing is lost: `final` is where it was, or back).
    """
    if not os.path.lexists(final):
        os.replace(staging, final)
        return
    old = temp_path(final.parent, final.name, "old")
    os.replace(final, old)
    try:
        os.replace(staging, final)
    except OSError:
        os.replace(old, final)
        raise
    shutil.rmtree(old, ignore_errors=True)


def make_temp_dir(folder: Path, name: str) -> Path:
    """Create (mode 0700) a temporary folder for `name` in `folder` after sweeping
    `folder`; returns its path.

    Raises:
        OSError: the folder cannot be written.
    """

    def create(path: Path) -> Path:
        path.mkdir(mode=0o700)
        return path

    return _fresh(folder, name, create)
