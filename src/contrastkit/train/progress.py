"""A rich progress bar for training: epoch, loss, samples/s and ETA."""

from __future__ import annotations

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
    """Context manager showing one bar over all training steps.

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
        self._progress.update(
            self._task,
            completed=step,
            epoch=epoch + 1,
            loss=f"{loss:.4f}",
            rate=f"{samples_per_s:,.0f}",
            extra=extra,
        )
