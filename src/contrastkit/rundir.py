"""The run directory: `config.yaml`, `metrics.json`, `log.jsonl`, `checkpoint.pt`, `report.html`.

Every file that replaces an earlier version is written atomically (`contrastkit.atomic`).
"""

from __future__ import annotations

from pathlib import Path

from contrastkit.errors import UserError

CONFIG = "config.yaml"
METRICS = "metrics.json"
LOG = "log.jsonl"
CHECKPOINT = "checkpoint.pt"
REPORT = "report.html"


def prepare_run_dir(out: Path, *, overwrite: bool, resume: bool) -> None:
    """Make sure `out` may receive a run.

    A directory holding a finished run (`metrics.json`) is refused unless `overwrite`;
    one holding only a checkpoint needs `resume` (or `overwrite`) so that nothing is lost.
    With `overwrite`, the old run files are removed before training starts.
    """
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out}: exists and is not a directory")
    finished = (out / METRICS).is_file()
    started = (out / CHECKPOINT).is_file()
    if overwrite:
        for name in (CONFIG, METRICS, LOG, CHECKPOINT, REPORT):
            (out / name).unlink(missing_ok=True)
    elif resume:
        if not started:
            raise UserError(f"--resume: {out / CHECKPOINT} not found, nothing to resume")
    elif finished:
        raise UserError(f"--out {out}: holds a finished run; pass --overwrite to replace it")
    elif started:
        raise UserError(
            f"--out {out}: holds an unfinished run; pass --resume to continue it "
            "or --overwrite to start again"
        )
    out.mkdir(parents=True, exist_ok=True)
