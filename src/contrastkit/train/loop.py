"""The training loop: read it top to bottom.

`fit` builds the parts, then `EpochLoop` runs them: every epoch draws a seeded shuffle
(`train/loader.py`: workers decode items), every step moves a batch to the device and
hands it to the step function (`train/step.py`: learning rate, loss under autocast, NaN
guard, backward, clipping, optimizer step, the method's state update), then to the
callbacks (`train/callbacks.py`), in this order:

- `HealthCheck`: every few steps the health monitor (`train/health.py`) measures the
  embedding and remembers a collapse (which can stop the run);
- `ShowProgress`: the bar, or plain lines off a terminal (`train/progress.py`);
- `WriteLog`: every `log_every` steps the record goes to `log.jsonl`, TensorBoard
  (`train/tensorboard.py`) and W&B (`train/wandb_log.py`);
- `Checkpoints`: `checkpoint.pt` after every epoch and where `max_steps` stops
  (`train/checkpointing.py`); `resume=True` continues from it bit for bit;
- `EpochHook`: the caller's `on_epoch_end`.

The loss value is read on the host only at logged steps and at the end of an epoch; the
NaN guard's finite flag is the one read per step. Under torchrun each rank trains on its
slice of every global batch through DDP (`train/ddp.py`) and only rank 0 writes files.
Training time (`train/clock.py`) leaves out health checks, checkpoints and the hook.
"""

from __future__ import annotations

import resource
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset, default_collate

from contrastkit.augment.types import Augment
from contrastkit.data.items import InMemory, TensorItems
from contrastkit.data.workers import auto_workers
from contrastkit.distributed import rank
from contrastkit.errors import TrainingDiverged
from contrastkit.methods.base import Method
from contrastkit.rundir import CHECKPOINT, LOG, truncate_log
from contrastkit.train import ddp
from contrastkit.train.allocator import keep_freed_memory
from contrastkit.train.callbacks import (
    Callback,
    Callbacks,
    EpochHook,
    HealthCheck,
    LoopState,
    ShowProgress,
    StepEnd,
    WriteLog,
)
from contrastkit.train.checkpointing import Checkpoints
from contrastkit.train.clock import TrainClock
from contrastkit.train.frozen_warmup import FrozenWarmup
from contrastkit.train.health import Collapse, HealthMonitor
from contrastkit.train.loader import ShuffledBatches, Waited, build_loader, to_device
from contrastkit.train.options import TrainConfig
from contrastkit.train.progress import TrainProgress
from contrastkit.train.speed import choose_speedups, compiled
from contrastkit.train.step import StepResult, TrainStep, build_step
from contrastkit.train.tensorboard import EventLog
from contrastkit.train.wandb_log import WandbLog

MAX_SKIPPED_STEPS = 10


@dataclass
class TrainResult:
    train_time_s: float
    samples_per_s: float
    peak_mem_mib: float
    final_loss: float
    skipped_steps: int
    data_wait_s: float = 0.0
    collapse: Collapse | None = None


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during training.

    Attributes:
        step: The step training had reached.
        checkpoint_step: The step the run's checkpoint continues from (None: the run has no
            checkpoint yet, so there is nothing to resume).
        first_checkpoint_step: The step at which the first checkpoint is written.
    """

    def __init__(self, *, step: int, checkpoint_step: int | None, first_checkpoint_step: int):
        super().__init__(f"interrupted at step {step}")
        self.step = step
        self.checkpoint_step = checkpoint_step
        self.first_checkpoint_step = first_checkpoint_step


def peak_memory_mib(device: torch.device) -> float:
    """Peak allocated device memory (CUDA), or the process's peak resident set (CPU)."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


@contextmanager
def _memory_layout(method: nn.Module, *, channels_last: bool) -> Iterator[None]:
    """Conv weights stored channels-last while training (`train.channels_last`: faster
    convolutions), handed back in the usual layout however training ends, an exception
    (Ctrl-C, the NaN guard) included."""
    if not channels_last:
        yield
        return
    # Module.to takes memory_format; torch's overloads for type checkers omit it.
    method.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    try:
        yield
    finally:
        method.to(memory_format=torch.contiguous_format)  # type: ignore[call-overload]


@dataclass(frozen=True)
class Generators:
    """The run's random generators besides torch's global one (the model's)."""

    shuffle: torch.Generator  # the epochs' permutations
    augment: torch.Generator  # this rank's on-device views
    loader: torch.Generator  # the workers' seeds, re-seeded every epoch

    @classmethod
    def seeded(cls, seed: int, device: torch.device) -> Generators:
        return cls(
            shuffle=torch.Generator().manual_seed(seed),
            augment=torch.Generator(device=device).manual_seed(seed + 1 + 1000 * rank()),
            loader=torch.Generator(),
        )


@dataclass
class EpochLoop:
    """Epochs of steps over the loader, each step followed by the callbacks."""

    loader: Waited
    sampler: ShuffledBatches
    step: TrainStep
    callbacks: Callbacks
    gens: Generators
    device: torch.device
    seed: int
    cfg: TrainConfig
    warn: Callable[[str], None] | None
    stop_on_collapse: bool

    def run(self, state: LoopState) -> None:
        state.clock.start()
        try:
            self._epochs(state)
        finally:
            state.clock.stop()

    def _epochs(self, state: LoopState) -> None:
        for epoch in range(state.step // state.steps_per_epoch, self.cfg.epochs):
            if state.step >= state.stop_step:
                break
            state.epoch, state.epoch_first_step = epoch, state.step
            state.epoch_start_s = state.clock.elapsed
            self.sampler.skip = state.step - epoch * state.steps_per_epoch  # resumed mid-epoch
            self.callbacks.epoch_start(state)
            self.gens.loader.manual_seed(self.seed + 7919 * (epoch + 1))  # this epoch's workers
            self._steps(state)
            if state.stop:
                if self.warn is not None:
                    self.warn(f"stopped early after step {state.step - 1} (--stop-on-collapse)")
                return  # the last checkpoint stays the last complete epoch
            self.callbacks.epoch_end(state)

    def _steps(self, state: LoopState) -> None:
        pin = self.device.type == "cuda"
        for cpu_batch in self.loader:
            batch = to_device(cpu_batch, self.device, non_blocking=pin)
            result = self.step(batch, state.step, self.gens.augment)
            if result.finite:
                self._after_step(state, result)
                if self.stop_on_collapse:
                    state.stop = ddp.any_rank(state.collapse is not None)
            else:
                state.skipped += 1
                if state.skipped > MAX_SKIPPED_STEPS:
                    raise TrainingDiverged(
                        f"loss was not finite in {state.skipped} steps (last at step "
                        f"{state.step}); lower train.lr or enable train.grad_clip"
                    )
            state.step += 1
            if state.stop or state.step >= state.stop_step:
                return

    def _after_step(self, state: LoopState, result: StepResult) -> None:
        step = state.step
        state.last_loss = result.loss
        state.trained_steps += 1
        last = step == state.stop_step - 1
        logged = self.callbacks.wants_record(step, last=last)
        if logged or (step + 1) % state.steps_per_epoch == 0:
            state.loss = float(result.loss)  # the only read of the loss value
        record = {"step": step, "epoch": state.epoch, "loss": state.loss, "lr": result.lr}
        record["samples_per_s"] = state.epoch_rate()
        event = StepEnd(step=step, epoch=state.epoch, last=last, logged=logged, record=record)
        self.callbacks.step_end(state, event)


def fit(
    method: Method[Any],
    data: Dataset[Any] | InMemory,
    *,
    collate: Callable[[Any], Any] | None = None,
    augment: Augment,
    cfg: TrainConfig,
    seed: int,
    run_dir: Path,
    device: torch.device,
    resume: bool = False,
    show_progress: bool = True,
    on_epoch_end: Callable[[int], None] | None = None,
    monitor: HealthMonitor | None = None,
    stop_on_collapse: bool = False,
    log: Callable[[str], None] | None = None,
    callbacks: Sequence[Callback] = (),
) -> TrainResult:
    """Train `method` for `cfg.epochs` epochs (or `cfg.max_steps` steps) on `data`.

    Args:
        data: A map-style `Dataset` of training items, or data held in memory (a tensor,
            a tuple of tensors, a typed `Batch`), which is wrapped in `TensorItems`.
        collate: Makes a batch of the items the loader reads (default: `TensorItems`'s
            pass-through for in-memory data, else torch's `default_collate`). The batch is
            moved to `device` and handed to `method.training_loss`.
        log: Where the run's `speed:` line goes (compile, CUDA graphs, fused AdamW).
        callbacks: More step callbacks (`train/callbacks.py`), called after the run's own.

    Raises:
        TrainingInterrupted: Ctrl-C (says whether the run has a checkpoint to resume).
        TrainingDiverged: The loss was not finite in more than `MAX_SKIPPED_STEPS` steps.
    """
    items = data if isinstance(data, Dataset) else TensorItems(data)
    n = len(items)  # type: ignore[arg-type]
    state, writer = _plan(n, cfg), rank() == 0
    run_dir.mkdir(parents=True, exist_ok=True)
    if cfg.keep_freed_memory and device.type == "cpu":
        keep_freed_memory()
    torch.manual_seed(seed)
    gens = Generators.seeded(seed, device)
    speed = choose_speedups(cfg, device, state.total_steps)
    if log is not None and writer:
        log(speed.line())
    method.to(device).train()
    with (
        _memory_layout(method, channels_last=cfg.channels_last),
        compiled(method, speed.compile_mode),
        ExitStack() as stack,
    ):
        step = build_step(
            method,
            augment,
            cfg,
            speed,
            total_steps=state.total_steps,
            warmup_steps=cfg.warmup_epochs * state.steps_per_epoch,
        )
        sampler = ShuffledBatches(n, batch_size=state.batch_size, generator=gens.shuffle)
        loader = _loader(items, sampler, collate, cfg, gens, device)
        saves = _checkpoints(run_dir, method, step, gens, loader, state, resume=resume)
        chain, warn = _callbacks(stack, state, run_dir, cfg, monitor, show=show_progress)
        chain += [saves] + ([] if on_epoch_end is None else [EpochHook(on_epoch_end)])
        chain += [FrozenWarmup(method.get_submodule("encoder"), cfg.frozen_epochs), *callbacks]
        loop = EpochLoop(
            loader, sampler, step, Callbacks(chain), gens, device, seed, cfg, warn, stop_on_collapse
        )
        try:
            loop.run(state)
        except KeyboardInterrupt:
            raise TrainingInterrupted(
                step=state.step,
                checkpoint_step=saves.saved_step,
                first_checkpoint_step=min(state.steps_per_epoch, state.stop_step),
            ) from None
    return _result(state, device, saves.data_wait_s)


def _checkpoints(
    run_dir: Path,
    method: nn.Module,
    step: TrainStep,
    gens: Generators,
    loader: Waited,
    state: LoopState,
    *,
    resume: bool,
) -> Checkpoints:
    """The checkpoint callback; on `resume` the run continues from its checkpoint (and
    its log from the same step)."""
    writer = rank() == 0
    saves = Checkpoints(
        run_dir / CHECKPOINT,
        method,
        step.optimizer,
        shuffle_gen=gens.shuffle,
        augment_gen=gens.augment,
        loader=loader,
        writer=writer,
    )
    if resume:
        saves.restore(state)
        if writer:
            truncate_log(run_dir / LOG, state.step)
    return saves


def _plan(n: int, cfg: TrainConfig) -> LoopState:
    """Batch size, steps per epoch and where the run stops, for `n` training items."""
    batch_size = min(cfg.batch_size, n)
    ddp.per_rank_batch(batch_size)  # the global batch must split evenly over the ranks
    steps_per_epoch = n // batch_size  # drop the ragged last batch: BatchNorm needs full ones
    total_steps = cfg.epochs * steps_per_epoch
    return LoopState(
        steps_per_epoch=steps_per_epoch,
        total_steps=total_steps,
        stop_step=total_steps if cfg.max_steps is None else min(total_steps, cfg.max_steps),
        batch_size=batch_size,
        clock=TrainClock(),
    )


def _loader(
    items: Dataset[Any],
    sampler: ShuffledBatches,
    collate: Callable[[Any], Any] | None,
    cfg: TrainConfig,
    gens: Generators,
    device: torch.device,
) -> Waited:
    """The DataLoader of the run, timed (`Waited`): batches land in pinned memory on CUDA."""
    in_memory = isinstance(items, TensorItems)
    if collate is None:
        collate = items.collate if isinstance(items, TensorItems) else default_collate
    return Waited(
        build_loader(
            items,
            sampler,
            collate=collate,
            workers=auto_workers(
                cfg.workers, in_memory=in_memory, accelerator=device.type != "cpu"
            ),
            prefetch_factor=cfg.prefetch_factor,
            generator=gens.loader,
            pin_memory=device.type == "cuda",
        )
    )


def _callbacks(
    stack: ExitStack,
    state: LoopState,
    run_dir: Path,
    cfg: TrainConfig,
    monitor: HealthMonitor | None,
    *,
    show: bool,
) -> tuple[list[Callback], Callable[[str], None] | None]:
    """Health (when monitored), progress and the log sinks, in the order they run, and
    where warnings go (above the progress bar; nowhere on the ranks that do not write)."""
    writer = rank() == 0
    bar = stack.enter_context(
        TrainProgress(
            total_steps=state.total_steps,
            epochs=cfg.epochs,
            batch_size=state.batch_size,
            start_step=state.step,
            clock=lambda: state.clock.elapsed,
            enabled=show and writer,
        )
    )
    warn = bar.log if writer else None
    chain: list[Callback] = [] if monitor is None else [HealthCheck(monitor, warn=warn)]
    chain.append(ShowProgress(bar))
    sinks = [
        stack.enter_context(EventLog(run_dir, enabled=writer)),
        stack.enter_context(WandbLog(run_dir, project=cfg.wandb_project, enabled=writer)),
    ]
    chain.append(WriteLog(run_dir, sinks, every=cfg.log_every, writer=writer))
    return chain, warn


def _result(state: LoopState, device: torch.device, data_wait_s: float) -> TrainResult:
    elapsed = state.clock.elapsed
    trained = (state.step - state.skipped) * state.batch_size
    return TrainResult(
        train_time_s=elapsed,
        samples_per_s=trained / elapsed if elapsed > 0 else 0.0,
        peak_mem_mib=peak_memory_mib(device),
        final_loss=state.loss if state.last_loss is None else float(state.last_loss),
        skipped_steps=state.skipped,
        data_wait_s=data_wait_s,
        collapse=state.collapse,
    )
