"""What the loop shares with its callbacks, and the callbacks of a run: health, log sinks,
progress and the end-of-epoch hook (checkpoints: `train/checkpointing.py`).

The loop calls, in the order the callbacks were given: `on_epoch_start` before an epoch's
first step, `on_step_end` after every step that was not skipped by the NaN guard, and
`on_epoch_end` after the last step of an epoch (or the step `max_steps` stops at). A
callback that needs the step's loss on the host says so in `wants_record`; the loop then
reads it once and fills the step's `record`, the line `log.jsonl` receives.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import Tensor

from contrastkit.atomic import append_jsonl
from contrastkit.rundir import LOG
from contrastkit.train.clock import TrainClock
from contrastkit.train.health import Collapse, HealthMonitor, progress_summary
from contrastkit.train.progress import TrainProgress
from contrastkit.train.sinks import Sink


@dataclass
class LoopState:
    """Where a run is: the loop moves it on, callbacks read it (and a few set it).

    Attributes:
        step: The next step to train (counted over the whole run, from 0).
        epoch: The epoch being trained.
        skipped: Steps the NaN guard skipped, in the whole run.
        trained_steps: Steps this process trained (skipped ones not counted).
        loss: The last loss value read on the host.
        last_loss: The last finite step's loss, on the device.
        collapse: The first collapse the health monitor saw.
        health: The health monitor's short text for the progress line.
        stop: Set to end the run after this step (stop on collapse).
        epoch_start_s: The clock when this epoch (or this process's part of it) began.
        epoch_first_step: The first step this process trained in this epoch.
    """

    steps_per_epoch: int
    total_steps: int
    stop_step: int
    batch_size: int
    clock: TrainClock
    step: int = 0
    epoch: int = 0
    skipped: int = 0
    trained_steps: int = 0
    loss: float = math.nan
    last_loss: Tensor | None = None
    collapse: Collapse | None = None
    health: str = ""
    stop: bool = False
    epoch_start_s: float = 0.0
    epoch_first_step: int = 0

    @property
    def epoch_done(self) -> bool:
        """Whether the steps trained so far end an epoch (not a `max_steps` stop inside one)."""
        return self.step == (self.epoch + 1) * self.steps_per_epoch

    def epoch_rate(self) -> float:
        """Samples per second of training time since this epoch began."""
        done = self.step + 1 - self.epoch_first_step
        return done * self.batch_size / max(self.clock.elapsed - self.epoch_start_s, 1e-9)


@dataclass
class StepEnd:
    """One trained step, as its callbacks see it.

    Attributes:
        last: The run's last step.
        logged: Some callback wants this step's record (log sinks, health).
        record: The `log.jsonl` line: step, epoch, loss, lr, samples_per_s, then what the
            callbacks add (health statistics).
    """

    step: int
    epoch: int
    last: bool
    logged: bool
    record: dict[str, Any] = field(default_factory=dict)


class Callback:
    """A hook into the loop; every method does nothing unless overridden."""

    def wants_record(self, step: int, *, last: bool) -> bool:
        return False

    def on_epoch_start(self, state: LoopState) -> None: ...

    def on_step_end(self, state: LoopState, event: StepEnd) -> None: ...

    def on_epoch_end(self, state: LoopState) -> None: ...


class Callbacks:
    """The callbacks of a run, called in order."""

    def __init__(self, callbacks: Sequence[Callback]) -> None:
        self.callbacks = list(callbacks)

    def wants_record(self, step: int, *, last: bool) -> bool:
        return any(cb.wants_record(step, last=last) for cb in self.callbacks)

    def epoch_start(self, state: LoopState) -> None:
        for cb in self.callbacks:
            cb.on_epoch_start(state)

    def step_end(self, state: LoopState, event: StepEnd) -> None:
        for cb in self.callbacks:
            cb.on_step_end(state, event)

    def epoch_end(self, state: LoopState) -> None:
        for cb in self.callbacks:
            cb.on_epoch_end(state)


class HealthCheck(Callback):
    """Measures the embedding when the monitor is due (not training time), adds the
    statistics to the record and remembers the first collapse."""

    def __init__(self, monitor: HealthMonitor, *, warn: Callable[[str], None] | None) -> None:
        self.monitor = monitor
        self.warn = warn

    def wants_record(self, step: int, *, last: bool) -> bool:
        return self.monitor.due(step, last=last)

    def on_step_end(self, state: LoopState, event: StepEnd) -> None:
        if not self.monitor.due(event.step, last=event.last):
            return
        with state.clock.paused():
            stats, found = self.monitor.check(event.step)
        event.record.update(stats)
        state.health = progress_summary(stats)
        if found is not None and self.warn is not None:
            self.warn(f"[bold yellow]warning:[/] step {event.step}: {found.symptom}")
        state.collapse = state.collapse or found


class ShowProgress(Callback):
    """The progress bar (or plain lines off a terminal) after every step."""

    def __init__(self, bar: TrainProgress) -> None:
        self.bar = bar

    def on_step_end(self, state: LoopState, event: StepEnd) -> None:
        self.bar.update(step=event.step + 1, epoch=event.epoch, loss=state.loss, extra=state.health)


class WriteLog(Callback):
    """Every `every` steps (and the last) the record goes to `log.jsonl` and to the curve
    writers (TensorBoard, W&B); a step another callback logs (health) goes there too.
    Only the writing rank writes (`writer`); every rank reads the loss at the same steps."""

    def __init__(
        self, run_dir: Path, sinks: Sequence[Sink], *, every: int, writer: bool = True
    ) -> None:
        self.path = run_dir / LOG
        self.sinks: list[Sink] = list(sinks)
        self.every = every
        self.writer = writer

    def wants_record(self, step: int, *, last: bool) -> bool:
        return step % self.every == 0 or last

    def on_step_end(self, state: LoopState, event: StepEnd) -> None:
        if not (event.logged and self.writer):
            return
        append_jsonl(self.path, event.record)
        for sink in self.sinks:
            sink.write(event.record)


class EpochHook(Callback):
    """Calls `hook(epochs done)` after each whole epoch (not training time)."""

    def __init__(self, hook: Callable[[int], None]) -> None:
        self.hook = hook

    def on_epoch_end(self, state: LoopState) -> None:
        if state.epoch_done:
            with state.clock.paused():
                self.hook(state.epoch + 1)
