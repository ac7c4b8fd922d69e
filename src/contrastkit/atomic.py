"""Files written atomically: a temporary file in the same directory, then `os.replace`, so
an interrupted write never leaves a half-written file under the final name; the
temporary names its process (`temporaries.py`), and a later write into the same folder
removes the temporaries of processes that are gone.

A write that fails (a read-only or full disk, a folder that cannot exist) raises a
`UserError` naming the file and the reason, and leaves the file already there unchanged.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from contrastkit.errors import UserError
from contrastkit.temporaries import TEMP_PATTERN, make_temp_file

_REASONS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
}


def _reason(err: OSError, folder: Path) -> str:
    """Why a write into `folder` failed, in words. Some writers (NumPy's) raise an
    OSError without an errno when a disk fills up: the free space then says it."""
    if err.errno is not None:
        return _REASONS.get(err.errno, err.strerror or str(err))
    try:
        full = os.statvfs(folder).f_bavail == 0
    except OSError:
        full = False
    return _REASONS[errno.ENOSPC] if full else str(err) or type(err).__name__


def cannot_write(path: Path, err: OSError, *, kept: str = "") -> UserError:
    """The one-line error for a write to `path` that failed with `err`; `kept` (e.g.
    "the last good checkpoint is kept") is added when given."""
    reason = _reason(err, path.parent)
    named = str(err.filename or "")
    shown = named and named != str(path) and not TEMP_PATTERN.match(Path(named).name)
    where = f" ({named})" if shown else ""
    tail = f"; {kept}" if kept else ""
    return UserError(f"{path}: cannot write: {reason}{where}{tail}")


def umask() -> int:
    """The process's file-creation mask (read without changing it)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def writable_folder(folder: Path, *, shown: str | None = None) -> Path:
    """Create `folder` (and its parents) when missing and check a file can be created in
    it, before a command spends time on work it could not save; returns `folder`.

    Raises:
        UserError: `shown` (default: the folder) cannot be written there and why, e.g. a
            read-only file system or a folder that cannot exist (`/proc/x`).
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = make_temp_file(folder, "probe")
        os.close(fd)
        probe.unlink()
    except OSError as err:
        raise UserError(f"{shown or folder}: cannot write there: {_reason(err, folder)}") from None
    return folder


def write_atomic(path: Path, write: Callable[[IO[bytes]], object], *, kept: str = "") -> None:
    """Call `write(file)` on a temporary file next to `path`, then rename it over `path`.
    The file gets the permissions a plain `open(path, "w")` would (0666 less the umask).

    Raises:
        UserError: the file cannot be written (naming it and why; `kept` says what stays,
            by default the file already at `path`).
    """
    tmp: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = make_temp_file(path.parent, path.name)
        os.fchmod(fd, 0o666 & ~umask())
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as err:
        unchanged = f"{path.name} is unchanged" if path.exists() else ""
        error = cannot_write(path, err, kept=kept or unchanged)  # while the disk is still full
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        raise error from None
    except BaseException:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (a power cut after it keeps the new file)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on a directory; the rename still happened
    finally:
        os.close(fd)


def write_text_atomic(path: Path, text: str) -> None:
    write_atomic(path, lambda handle: handle.write(text.encode()))


def write_json_atomic(path: Path, obj: Any) -> None:
    write_text_atomic(path, json.dumps(obj, indent=2) + "\n")


def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    """Append `record` as one line of JSON (a cut-short last line is dropped on reading).

    Raises:
        UserError: the file cannot be written (naming it and why).
    """
    try:
        with path.open("a") as handle:
            handle.write(json.dumps(record) + "\n")
    except OSError as err:
        raise cannot_write(path, err) from None


def read_json(path: Path) -> Any:
    if not path.is_file():
        raise UserError(f"{path} not found: is this a contrastkit run directory?")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise UserError(f"{path}: not valid JSON (line {err.lineno}: {err.msg})") from None
