"""Training progress: a rich bar on a terminal (epoch, loss, samples/s, ETA); in a log or
a pipe, where a bar cannot redraw, a plain line at every tenth of the epochs."""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class TrainProgress:
    """Context manager showing one bar over all training steps (plain lines off a terminal).

    Example:
        >>> with TrainProgress(total_steps=100, epochs=10) as bar:
        ...     bar.update(step=1, epoch=0, loss=4.2, samples_per_s=900.0)
    """

    def __init__(
        self,
        *,
        total_steps: int,
        epochs: int,
        start_step: int = 0,
        console: Console | None = None,
        enabled: bool = True,
    ) -> None:
        self._epochs = epochs
        self._total_steps = total_steps
        self._enabled = enabled
        self._lines_every = max(1, epochs // 10)
        self._last_line_epoch = -1
        self._start = time.perf_counter()
        self._progress = Progress(
            TextColumn("[bold]epoch {task.fields[epoch]}/{task.fields[epochs]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}"),
            TextColumn("{task.fields[rate]} samples/s"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[extra]}"),
            console=console,
            disable=not enabled,
            transient=False,
        )
        self._plain = not self._progress.console.is_terminal  # a log or a pipe
        self._task: TaskID = self._progress.add_task(
            "train",
            total=total_steps,
            completed=start_step,
            epoch=0,
            epochs=epochs,
            loss="-",
            rate="-",
            extra="",
        )

    def __enter__(self) -> TrainProgress:
        if not self._plain:
            self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def log(self, message: str) -> None:
        """Print a line above the bar (warnings during training)."""
        self._progress.console.print(message)

    def update(
        self, *, step: int, epoch: int, loss: float, samples_per_s: float, extra: str = ""
    ) -> None:
        if self._plain:
            self._plain_line(step, epoch, loss, samples_per_s, extra)
            return
        self._progress.update(
            self._task,
            completed=step,
            epoch=epoch + 1,
            loss=f"{loss:.4f}",
            rate=f"{samples_per_s:,.0f}",
            extra=extra,
        )

    def _plain_line(
        self, step: int, epoch: int, loss: float, samples_per_s: float, extra: str
    ) -> None:
        done = epoch + 1
        epoch_end = step * self._epochs % self._total_steps == 0  # steps are whole epochs
        due = epoch_end and (done % self._lines_every == 0 or done == self._epochs)
        if not self._enabled or not due or done == self._last_line_epoch:
            return
        self._last_line_epoch = done
        elapsed = time.perf_counter() - self._start
        self._progress.console.print(
            f"epoch {done}/{self._epochs}  step {step}/{self._total_steps}  loss {loss:.4f}  "
            f"{samples_per_s:,.0f} samples/s  {elapsed:.0f} s  {extra}".rstrip(),
            soft_wrap=True,
        )
