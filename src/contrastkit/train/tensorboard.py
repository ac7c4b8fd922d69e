"""Training curves where people look: TensorBoard event files in the run directory.

`fit` hands every logged record (the line it appends to `log.jsonl`: loss, lr,
samples_per_s and the health statistics) to an `EventLog`, which writes each number as a
scalar at the record's step into `run_dir/tensorboard/`. View with
`tensorboard --logdir runs/`. Needs the `tensorboard` package (the `tensorboard` extra,
which `make install` installs); without it nothing is written and training goes on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from contrastkit.train.sinks import Sink, scalars

EVENTS_DIR = "tensorboard"
"""Where a run's event files go, beside log.jsonl."""


class EventLog(Sink):
    """Writes the logged records of a run as TensorBoard scalars (a no-op without the
    `tensorboard` package).

    Example:
        >>> with EventLog(Path("runs/a")) as events:
        ...     events.write({"step": 0, "loss": 4.2, "lr": 0.001})
    """

    def __init__(self, run_dir: Path, *, enabled: bool = True) -> None:
        self._writer: Any = None
        if not enabled:
            return
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:  # the tensorboard package is not installed
            return
        self._writer = SummaryWriter(log_dir=str(run_dir / EVENTS_DIR))

    @property
    def active(self) -> bool:
        return self._writer is not None

    def write(self, record: dict[str, Any]) -> None:
        """Each finite number of `record` (but step and epoch) as `train/<key>` at its step."""
        if self._writer is None:
            return
        step = int(record["step"])
        for tag, value in scalars(record).items():
            self._writer.add_scalar(tag, value, step)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
