"""Training progress: a rich bar on a terminal; in a log or a pipe, where a bar cannot
redraw, plain lines: at every tenth of the epochs and at least every `every_s` seconds.

Both show the same numbers: step, loss, the rate and the ETA from the recent rate (the
last `RATE_WINDOW_S` seconds of training, so a slow start or a warm-up does not skew it),
and the training time of `train/clock.py`, the number `metrics.json` records as
`train_time_s`.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from contrastkit.train.closing import Closing

LINE_EVERY_S = 30.0
"""Off a terminal, the longest gap between two progress lines."""

RATE_WINDOW_S = 60.0
"""The rate and the ETA are measured over this much recent training time."""


def duration(seconds: float) -> str:
    """'45 s', '12 min 5 s', '3 h 20 min'."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    return f"{s // 3600} h {s % 3600 // 60} min"


class RecentRate:
    """Steps per second over the last `window_s` seconds of (training) time."""

    def __init__(self, window_s: float = RATE_WINDOW_S) -> None:
        self._window_s = window_s
        self._marks: deque[tuple[float, int]] = deque()

    def add(self, t: float, step: int) -> None:
        if self._marks and t - self._marks[-1][0] < 0.5:
            return  # a mark every half second is enough
        self._marks.append((t, step))
        while len(self._marks) > 2 and t - self._marks[1][0] >= self._window_s:
            self._marks.popleft()

    def steps_per_s(self, t: float, step: int) -> float:
        if not self._marks or t <= self._marks[0][0]:
            return 0.0
        first_t, first_step = self._marks[0]
        return (step - first_step) / (t - first_t)


class TrainProgress(Closing):
    """Context manager showing the progress of all training steps.

    Args:
        total_steps: Steps of the whole run (all epochs).
        epochs: Epochs of the whole run.
        batch_size: Samples per step (for samples/s).
        start_step: Where a resumed run starts.
        clock: Training seconds so far (`TrainClock.elapsed`); the wall clock by default.
        wall: The wall clock that spaces the plain lines (health checks and checkpoints
            stop the training clock, not the reader's).
        every_s: Off a terminal, a line at least this often (wall time).
        enabled: False prints nothing (ranks that do not write, `--no-progress`).

    Example:
        >>> with TrainProgress(total_steps=100, epochs=10, batch_size=256) as bar:
        ...     bar.update(step=1, epoch=0, loss=4.2)
    """

    def __init__(
        self,
        *,
        total_steps: int,
        epochs: int,
        batch_size: int,
        start_step: int = 0,
        clock: Callable[[], float] | None = None,
        wall: Callable[[], float] = time.monotonic,
        every_s: float = LINE_EVERY_S,
        console: Console | None = None,
        enabled: bool = True,
    ) -> None:
        self._epochs = epochs
        self._total_steps = total_steps
        self._batch_size = batch_size
        self._enabled = enabled
        self._lines_every = max(1, epochs // 10)
        self._every_s = every_s
        self._last_line_epoch = -1
        start = time.perf_counter()
        self._clock = clock or (lambda: time.perf_counter() - start)
        self._wall = wall
        self._last_line_t = wall()
        self._rate = RecentRate()
        self._rate.add(self._clock(), start_step)
        self._progress = Progress(
            TextColumn("[bold]epoch {task.fields[epoch]}/{task.fields[epochs]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}"),
            TextColumn("{task.fields[rate]} samples/s"),
            TextColumn("train {task.fields[train]}"),
            TextColumn("ETA {task.fields[eta]}"),
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
            train="-",
            eta="-",
            extra="",
        )

    def __enter__(self) -> TrainProgress:
        if not self._plain:
            self._progress.start()
        return self

    def close(self) -> None:
        """Stop drawing the bar (it stays on the terminal)."""
        self._progress.stop()

    def log(self, message: str) -> None:
        """Print a line above the bar (warnings during training)."""
        self._progress.console.print(message)

    def update(self, *, step: int, epoch: int, loss: float, extra: str = "") -> None:
        """`step` steps are done (the last one in `epoch`, counted from 0)."""
        now = self._clock()
        self._rate.add(now, step)
        steps_per_s = self._rate.steps_per_s(now, step)
        rate = f"{steps_per_s * self._batch_size:,.0f}" if steps_per_s > 0 else "-"
        eta = duration((self._total_steps - step) / steps_per_s) if steps_per_s > 0 else "-"
        loss_text, train = loss_shown(loss), duration(now)
        if self._plain:
            if self._enabled and self._line_due(step, epoch, self._wall()):
                self._progress.console.print(
                    f"epoch {epoch + 1}/{self._epochs}  step {step}/{self._total_steps}  "
                    f"loss {loss_text}  {rate} samples/s  train {train}  ETA {eta}  "
                    f"{extra}".rstrip(),
                    soft_wrap=True,
                )
            return
        self._progress.update(
            self._task,
            completed=step,
            epoch=epoch + 1,
            loss=loss_text,
            rate=rate,
            train=train,
            eta=eta,
            extra=extra,
        )

    def _line_due(self, step: int, epoch: int, now: float) -> bool:
        """At the end of every tenth of the epochs (and the last), or `every_s` after the
        last line."""
        done = epoch + 1
        epoch_end = step * self._epochs % self._total_steps == 0  # steps are whole epochs
        tenth = epoch_end and (done % self._lines_every == 0 or done == self._epochs)
        if tenth and done == self._last_line_epoch:
            tenth = False
        if not tenth and now - self._last_line_t < self._every_s:
            return False
        if tenth:
            self._last_line_epoch = done
        self._last_line_t = now
        return True


def loss_shown(loss: float) -> str:
    """The loss with 4 decimals, or 3 significant digits below 0.001 (SimCSE on a pretrained
    model trains at ~1e-5, which 4 decimals show as 0.0000)."""
    return f"{loss:.4f}" if abs(loss) >= 1e-3 or loss == 0 else f"{loss:.2e}"
