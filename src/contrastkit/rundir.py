"""The run directory: `config.yaml`, `metrics.json`, `log.jsonl`, `checkpoint.pt`, `report.html`.

Every file that replaces an earlier version is written atomically (`contrastkit.atomic`).
Nothing in a run is lost by accident:

- one training at a time: `lock_run_dir(out)` holds an exclusive `fcntl.flock` on
  `<out>/.lock` and refuses a second training into the same directory, naming the holder;
  the commands that read a run's model (`embed`, `index`, `export`, `eval`, ...) refuse
  while that lock is held (`refuse_while_training`) instead of using a mid-run checkpoint;
- `--overwrite` deletes nothing up front: `replace_run(out)` moves the old run's files
  (and what was derived from its model: report, pictures, index, embeddings) aside into
  `<out>/.previous-<time>/`, puts them back if the new run fails before its first
  checkpoint, and deletes them when the new run calls `commit()` after that checkpoint;
- `log.jsonl` survives a crash mid-write: `read_log` drops a partial last line with a
  note, `truncate_log` rewrites the log atomically;
- derived outputs are tied to the model that made them (`model_fingerprint`) and a run
  stores its data by absolute path with a cheap fingerprint (`data_fingerprint`).

Typical use by `train` (rank 0)::

    with lock_run_dir(out):
        prepare_run_dir(out, overwrite=overwrite, resume=resume)
        with replace_run(out, enabled=overwrite) as replacement:
            ...  # write config.yaml, train; after the first checkpoint:
            replacement.commit()
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contrastkit.atomic import writable_folder, write_text_atomic
from contrastkit.errors import UserError

CONFIG = "config.yaml"
METRICS = "metrics.json"
LOG = "log.jsonl"
CHECKPOINT = "checkpoint.pt"
REPORT = "report.html"
LOCK = ".lock"
PREVIOUS_PREFIX = ".previous-"

RUN_OUTPUTS: tuple[str, ...] = (
    CONFIG,
    METRICS,
    LOG,
    CHECKPOINT,
    REPORT,
    "similarity.png",
    "image_index.*",
    "indexes",
    "embeddings*.npy",
    "events.out.tfevents.*",
    "tensorboard",
)
"""Glob patterns of what a run writes into its directory or derives from its model.
`replace_run` moves exactly these aside; any other file in the directory is left alone."""

_Note = Callable[[str], None]


# --- one training at a time -------------------------------------------------------------


@contextmanager
def lock_run_dir(out: Path) -> Iterator[None]:
    """Hold an exclusive lock on the run directory `out` for the duration of the block.

    The lock is `fcntl.flock(LOCK_EX | LOCK_NB)` on `<out>/.lock`, which holds the pid of
    its holder. The kernel releases it when the block ends or the process dies (a killed
    training never leaves a stale lock). `out` is created when missing.

    Raises:
        UserError: another process holds the lock (names its pid), or `out` is a file.
    """
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out}: exists and is not a directory")
    writable_folder(out, shown=f"--out {out}")
    path = out / LOCK
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            raise UserError(
                f"--out {out}: another training (pid {holder}) is writing this run "
                f"directory (lock {path}); wait for it to finish or choose another --out"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def training_pid(out: Path) -> str | None:
    """The pid of the `train` that holds the lock of run directory `out` (training or
    evaluating right now), or None when no process holds it."""
    path = out / LOCK
    if not path.is_file():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def refuse_while_training(run: Path) -> None:
    """A command that reads a run's model refuses while its training still runs.

    Raises:
        UserError: a `train` holds the run's lock; its checkpoint is from mid-training.
    """
    pid = training_pid(run)
    if pid is not None:
        raise UserError(
            f"--run {run}: still training (pid {pid} holds {run / LOCK}); its checkpoint.pt "
            "is from the middle of training: wait for `contrastkit train` to finish"
        )


# --- may this directory receive a run? ------------------------------------------------


def is_run_dir(folder: Path) -> bool:
    """Whether `folder` is a run directory: training left its lock file there, or it
    holds a checkpoint (a run copied without its hidden files)."""
    return (folder / LOCK).is_file() or (folder / CHECKPOINT).is_file()


def check_new_run_dir(out: Path) -> None:
    """Refuse to train into a folder that holds other files and is not a run (a user's
    own `config.yaml` or `log.jsonl` would be overwritten), or into an empty path.

    Raises:
        UserError: naming the folder and a few of the files in it.
    """
    if not out.is_dir() or is_run_dir(out):
        return
    entries = sorted(p.name for p in out.iterdir())
    if entries:
        shown = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
        raise UserError(
            f"--out {out}: a folder with other files ({shown}), not a contrastkit run; "
            "choose a new or empty folder"
        )


def previous_runs(out: Path) -> list[Path]:
    """Folders `replace_run` left behind (a replacement killed before its first checkpoint):
    each holds the files of a run that was being replaced."""
    if not out.is_dir():
        return []
    return sorted(p for p in out.iterdir() if p.name.startswith(PREVIOUS_PREFIX))


def _kept_note(out: Path) -> str:
    kept = previous_runs(out)
    if not kept:
        return ""
    return f" (an earlier run was kept in {kept[-1]}: move its files back to restore it)"


def prepare_run_dir(out: Path, *, overwrite: bool, resume: bool) -> None:
    """Make sure `out` may receive a run; deletes nothing that a user could want back.

    A directory holding a finished run (`metrics.json`) is refused unless `overwrite`
    (`resume` has nothing left to train there: the saved config's epochs are done);
    one holding only a checkpoint needs `resume` (or `overwrite`) so that nothing is lost.
    With `overwrite`, the old run stays until `replace_run` moves it aside. A `log.jsonl`
    without a checkpoint (a run killed before its first checkpoint, nothing to resume) is
    cleared so that a restart does not append to it.

    Raises:
        UserError: `resume` and `overwrite` together, `out` is a file, or the directory
            holds a run the flags would lose or cannot continue.
    """
    if resume and overwrite:
        raise UserError(
            f"--resume and --overwrite: choose one (--resume continues the run in {out}, "
            "--overwrite replaces it)"
        )
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out}: exists and is not a directory")
    finished = (out / METRICS).is_file()
    started = (out / CHECKPOINT).is_file()
    if resume:
        if not started:
            raise UserError(
                f"--resume: {out / CHECKPOINT} not found, nothing to resume{_kept_note(out)}"
            )
        if finished:
            raise UserError(
                f"--resume: {out} holds a finished run ({METRICS}), nothing to resume; "
                f"`contrastkit eval --run {out}` evaluates it again"
            )
    elif overwrite:
        pass
    elif finished:
        raise UserError(f"--out {out}: holds a finished run; pass --overwrite to replace it")
    elif started:
        raise UserError(
            f"--out {out}: holds an unfinished run; pass --resume to continue it "
            "or --overwrite to start again"
        )
    elif (out / LOG).is_file():
        (out / LOG).unlink()  # killed before its first checkpoint: nothing to continue
    out.mkdir(parents=True, exist_ok=True)


def check_output_file(
    path: Path, *, overwrite: bool, run: Path | None = None, option: str = "--out"
) -> Path:
    """Check that a command may write the file `path` (e.g. `embed --out`) and return it.

    Refused: an empty path (`--out ""` would write into the current folder), a folder,
    an existing file unless `overwrite`, ever one of the files of the run `run` (its
    checkpoint, config, metrics or log), which no derived output may replace, and a
    folder that cannot be written (created when missing).

    Raises:
        UserError: naming `option`, the path and what was expected.
    """
    if str(path).strip() in ("", "."):
        raise UserError(f"{option}: empty path; give a file name, e.g. {option} embeddings.npy")
    if path.is_dir():
        raise UserError(f"{option} {path}: is a folder; give a file name inside it")
    if run is not None and path.exists():
        own = {(run / name).resolve() for name in (CONFIG, METRICS, LOG, CHECKPOINT)}
        if path.resolve() in own:
            raise UserError(f"{option} {path}: is a file of the run {run}; choose another name")
    if path.exists() and not overwrite:
        raise UserError(f"{option} {path}: exists; pass --overwrite to replace it")
    writable_folder(path.parent, shown=f"{option} {path}")  # before the work, not after
    return path


# --- --overwrite: replace only once the new run has a checkpoint ------------------------


def _outputs(out: Path) -> list[Path]:
    found: set[Path] = set()
    for pattern in RUN_OUTPUTS:
        found.update(out.glob(pattern))
    return sorted(found)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


@dataclass
class Replacement:
    """The old run of a directory, moved aside while a new run starts (see `replace_run`).

    Attributes:
        out: the run directory.
        previous: where the old run's files wait (None when there was no old run).
    """

    out: Path
    previous: Path | None
    committed: bool = field(default=False)

    def commit(self) -> None:
        """Delete the old run for good: call once the new run has written its first
        checkpoint. Calling it again does nothing."""
        if self.committed:
            return
        self.committed = True
        if self.previous is not None:
            shutil.rmtree(self.previous, ignore_errors=True)

    def restore(self) -> None:
        """Remove what the new run wrote and put the old run back (before `commit`)."""
        if self.committed or self.previous is None:
            return
        for path in _outputs(self.out):
            _remove(path)
        for path in sorted(self.previous.iterdir()):
            path.rename(self.out / path.name)
        self.previous.rmdir()
        self.previous = None


def _aside_dir(out: Path) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    candidate = out / f"{PREVIOUS_PREFIX}{stamp}"
    suffix = 1
    while candidate.exists():
        candidate = out / f"{PREVIOUS_PREFIX}{stamp}-{suffix}"
        suffix += 1
    return candidate


@contextmanager
def replace_run(out: Path, *, enabled: bool = True) -> Iterator[Replacement]:
    """Move the old run in `out` aside while a new one starts, and decide its fate later.

    On entry the old run's files (`RUN_OUTPUTS`: config, metrics, log, checkpoint and the
    outputs derived from its model) move into `<out>/.previous-<UTC time>/` (renames on
    one file system, nothing copied). Then:

    - the new run calls `commit()` after its first checkpoint: the old run is deleted;
    - the block raises (or is interrupted) before `commit()`: the new run's files are
      removed and the old run is moved back, as if nothing had happened;
    - the block ends normally without `commit()`: the new run is complete, so it commits.

    A process killed before `commit()` leaves the old run in `.previous-<time>/`;
    `prepare_run_dir` mentions it. With `enabled=False` (no `--overwrite`) nothing moves.
    """
    replacement = Replacement(out=out, previous=None)
    old = _outputs(out) if enabled else []
    if old:
        aside = _aside_dir(out)
        aside.mkdir()
        replacement.previous = aside
        try:
            for path in old:
                path.rename(aside / path.name)
        except OSError as err:
            for path in aside.iterdir():  # put back what moved; nothing new exists yet
                path.rename(out / path.name)
            aside.rmdir()
            raise UserError(f"--overwrite: cannot move the run in {out} aside ({err})") from None
    try:
        yield replacement
    except BaseException:
        replacement.restore()
        raise
    replacement.commit()


# --- log.jsonl ----------------------------------------------------------------------------


def read_log(path: Path, *, note: _Note | None = None) -> list[dict[str, Any]]:
    """The records of `log.jsonl` ([] when the file is missing).

    A run killed mid-write leaves a partial last line: it is dropped, and `note` (when
    given) is told so. Blank lines are skipped.

    Raises:
        UserError: a line other than the last is not a JSON object (names the line).
    """
    if not path.is_file():
        return []
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise UserError(f"{path}: not UTF-8 text (byte {err.start})") from None
    lines = text.split("\n")  # the last item is "" when the file ends with a newline
    records: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        partial = number == len(lines)  # the last line, without its newline
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            if not partial:
                raise UserError(f"{path}:{number}: not valid JSON ({err.msg})") from None
            record = None
        if not isinstance(record, dict):
            if not partial:
                raise UserError(f"{path}:{number}: expected a JSON object per line")
            if note is not None:
                note(f"{path}:{number}: dropped a partial last line (a run stopped mid-write)")
            break
        records.append(record)
    return records


def truncate_log(path: Path, from_step: int, *, note: _Note | None = None) -> None:
    """Drop the log records a crashed run wrote at or after `from_step` (the first step
    after its last checkpoint), and any partial last line; the log is rewritten
    atomically. Records without a "step" count as step 0. A missing log is left missing.

    Raises:
        UserError: a line other than the last is not a JSON object (names the line).
    """
    if not path.is_file():
        return
    keep = [r for r in read_log(path, note=note) if int(r.get("step", 0)) < from_step]
    write_text_atomic(path, "".join(json.dumps(record) + "\n" for record in keep))


# --- fingerprints: what a run's outputs were made from ----------------------------------


def model_fingerprint(checkpoint_path: Path) -> str:
    """The first 16 hex digits of the sha256 of the checkpoint's bytes.

    Outputs derived from a model (a search index, embeddings) store it and compare it with
    the run's current checkpoint before they answer: a run trained again gives another.

    Raises:
        UserError: the checkpoint is missing.
    """
    if not checkpoint_path.is_file():
        raise UserError(f"checkpoint not found: {checkpoint_path}")
    digest = hashlib.sha256()
    with checkpoint_path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def absolute_data_path(path: str | None) -> str | None:
    """`path` made absolute (user and symlinks resolved) so that a run evaluated from
    another folder reads the same data; None stays None."""
    if path is None:
        return None
    return str(Path(path).expanduser().resolve())


def _file_stats(
    folder: str, prefix: str, seen: set[tuple[int, int]]
) -> Iterator[tuple[str, int, int]]:
    """(relative path, size, mtime in ns) of every file under `folder`, in sorted order;
    symbolic links count as what they point to, a folder reached twice (a link loop) once,
    a link that cannot be followed (broken, or pointing at itself) not at all."""
    info = os.stat(folder)
    if (info.st_dev, info.st_ino) in seen:
        return
    seen.add((info.st_dev, info.st_ino))
    with os.scandir(folder) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            name = f"{prefix}{entry.name}"
            try:
                if entry.is_dir():
                    yield from _file_stats(entry.path, f"{name}/", seen)
                elif entry.is_file():
                    info = entry.stat()
                    yield name, info.st_size, info.st_mtime_ns
            except OSError:  # a link that points at itself: no data, as the readers skip it
                continue


def data_fingerprint(path: str | Path) -> str:
    """A cheap fingerprint of the data at `path`: the first 16 hex digits of the sha256
    of each file's relative path, size and modification time (nanoseconds); a folder is
    walked in sorted order. File contents are not read: a folder of 20,000 files took
    0.17 s here. The same data gives the same fingerprint; an added, removed, renamed,
    resized or rewritten file changes it.

    Raises:
        UserError: `path` does not exist.
    """
    root = Path(path).expanduser()
    if not root.exists():
        raise UserError(f"data path not found: {root}")
    digest = hashlib.sha256()
    if root.is_dir():
        stats: Iterator[tuple[str, int, int]] = _file_stats(str(root), "", set())
    else:
        info = root.stat()
        stats = iter([(root.name, info.st_size, info.st_mtime_ns)])
    for name, size, mtime_ns in stats:
        digest.update(f"{name}\0{size}\0{mtime_ns}\n".encode())
    return digest.hexdigest()[:16]
