"""Small disks for the destination cases: a tmpfs of a given size mounted on a folder
(root in a container, as in CI), made read-only or filled up to a few bytes.

Where mounting is not allowed, `Disk` falls back to simulating the disk at the write
calls: creating a file or folder under it fails with EROFS (read-only) or ENOSPC (full).
`Disk.real` says which one a test got.
"""

from __future__ import annotations

import builtins
import errno
import io
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

WRITING = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def _mount(folder: Path, size_kb: int) -> bool:
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(folder)],
        capture_output=True,
    )
    return done.returncode == 0


class Disk:
    """A folder on a small disk of its own (see the module docstring)."""

    def __init__(self, folder: Path, size_kb: int) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.real = _mount(folder, size_kb)
        self._patch: pytest.MonkeyPatch | None = None

    def read_only(self) -> None:
        """From now on nothing under the folder can be created or changed."""
        if self.real:
            subprocess.run(["mount", "-o", "remount,ro", str(self.folder)], check=True)
        else:
            self._simulate(errno.EROFS)

    def fill(self, leave: int = 0) -> None:
        """Fill the disk up to about `leave` free bytes."""
        if not self.real:
            self._simulate(errno.ENOSPC)
            return
        stat = os.statvfs(self.folder)
        free = stat.f_bavail * stat.f_frsize
        with (self.folder / ".filler").open("wb") as handle:
            handle.write(b"\0" * max(free - leave, 0))

    def _simulate(self, code: int) -> None:
        root = str(self.folder.resolve())
        mp = self._patch = pytest.MonkeyPatch()

        def under(path: Any) -> bool:
            return isinstance(path, str | os.PathLike) and os.path.abspath(path).startswith(root)

        def refuse(path: Any) -> None:
            raise OSError(code, os.strerror(code), str(path))

        real_open, real_mkdir, real_io_open = os.open, os.mkdir, io.open

        def os_open(path: Any, flags: int, *args: Any, **kw: Any) -> int:
            if flags & WRITING and under(path):
                refuse(path)
            return real_open(path, flags, *args, **kw)

        def mkdir(path: Any, *args: Any, **kw: Any) -> None:
            if under(path):
                refuse(path)
            real_mkdir(path, *args, **kw)

        def io_open(path: Any, mode: str = "r", *args: Any, **kw: Any) -> Any:
            if any(c in mode for c in "wax+") and under(path):
                refuse(path)
            return real_io_open(path, mode, *args, **kw)

        mp.setattr(os, "open", os_open)
        mp.setattr(os, "mkdir", mkdir)
        mp.setattr(builtins, "open", io_open)
        mp.setattr(io, "open", io_open)

    def close(self) -> None:
        if self._patch is not None:
            self._patch.undo()
        if self.real:
            subprocess.run(["umount", "-l", str(self.folder)], check=False)


@contextmanager
def small_disk(folder: Path, size_kb: int) -> Iterator[Disk]:
    disk = Disk(folder, size_kb)
    try:
        yield disk
    finally:
        disk.close()
