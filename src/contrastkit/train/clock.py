"""The training clock: one measure of training time for the progress line, `log.jsonl`
and `metrics.json` (`train_time_s`).

It runs while the loop trains (loading and augmenting included) and stops while the loop
does something else: health measurements, checkpoints, the end-of-epoch hook. A resumed
run starts from the time its checkpoint recorded, so the time of a run stopped and resumed
adds up to the time of its steps.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class TrainClock:
    """Seconds of training: wall time since `start` less the time spent `paused`.

    Args:
        offset: Training seconds before this process (from the checkpoint of a resumed run).
        now: The wall clock (`time.perf_counter`; a fake one in tests).

    Example:
        >>> clock = TrainClock()
        >>> clock.start()
        >>> with clock.paused():
        ...     save_checkpoint(...)   # not training time
        >>> clock.elapsed
    """

    def __init__(self, offset: float = 0.0, now: Callable[[], float] = time.perf_counter) -> None:
        self._now = now
        self._offset = offset
        self._started: float | None = None
        self._paused_s = 0.0

    def start(self) -> None:
        self._started = self._now()

    def stop(self) -> None:
        """Training ended: `elapsed` stays what it is now."""
        self._offset = self.elapsed
        self._started = None
        self._paused_s = 0.0

    @property
    def elapsed(self) -> float:
        if self._started is None:
            return self._offset
        return self._offset + self._now() - self._started - self._paused_s

    @contextmanager
    def paused(self) -> Iterator[None]:
        """The time inside the block does not count as training."""
        begin = self._now()
        try:
            yield
        finally:
            self._paused_s += self._now() - begin
