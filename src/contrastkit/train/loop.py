"""The training loop: read it top to bottom.

One step: take the next batch from the DataLoader (`train/loader.py`: a seeded shuffle,
workers decode items), move it to the device, set the learning rate from the schedule,
compute the method's loss (autocast when `train.amp`), skip the step if the loss is not
finite (NaN guard), backpropagate, clip, step, let the method update its state (EMA, queue).
The loss value is read on the host only at logged steps (every `log_every`, the end of an
epoch); the NaN guard's finite flag is the one read per step (see `_finite_then`).
A checkpoint is written atomically after every epoch (and where `max_steps` stops);
`resume=True` continues from it with model, optimizer, RNG and step counter restored, so
the result equals an uninterrupted run.
Every logged record also goes to TensorBoard event files in `run_dir/tensorboard/`
(`train/tensorboard.py`). Under torchrun each rank trains on its slice of every global
batch through DDP (`train/ddp.py`) and only rank 0 writes files; an optional `HealthMonitor`
(`train/health.py`) measures the embedding every few steps and can stop a collapsed run.
"""

from __future__ import annotations

import math
import resource
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import Tensor, nn
from torch.utils.data import Dataset, default_collate

from contrastkit.atomic import append_jsonl
from contrastkit.augment.types import Augment
from contrastkit.batches import Batch
from contrastkit.data.items import InMemory, TensorItems
from contrastkit.data.workers import auto_workers
from contrastkit.distributed import rank
from contrastkit.errors import UserError
from contrastkit.rundir import CHECKPOINT, LOG, truncate_log
from contrastkit.schedule import warmup_cosine
from contrastkit.train import ddp
from contrastkit.train.allocator import keep_freed_memory
from contrastkit.train.checkpoint import load_checkpoint, save_checkpoint
from contrastkit.train.health import Collapse, HealthMonitor, progress_summary
from contrastkit.train.loader import ShuffledBatches, Waited, build_loader, to_device
from contrastkit.train.optim import build_optimizer
from contrastkit.train.options import TrainConfig
from contrastkit.train.progress import TrainProgress
from contrastkit.train.tensorboard import EventLog
from contrastkit.train.wandb_log import WandbLog

MAX_SKIPPED_STEPS = 10


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


class Method(Protocol):
    """What the loop needs from a method (SimCLR, MoCo, ...): a loss and a state update."""

    encoder: nn.Module

    def training_loss(
        self, batch: Batch, *, augment: Augment, generator: torch.Generator | None = None
    ) -> Tensor: ...

    def after_step(self, progress: float) -> None: ...


@dataclass
class TrainResult:
    train_time_s: float
    samples_per_s: float
    peak_mem_mib: float
    final_loss: float
    skipped_steps: int
    data_wait_s: float = 0.0
    collapse: Collapse | None = None


def peak_memory_mib(device: torch.device) -> float:
    """Peak allocated device memory (CUDA), or the process's peak resident set (CPU)."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _finite_then(global_loss: Tensor, backward: Callable[[], None]) -> bool:
    """Whether the step's loss is finite; runs `backward` only when it is on the CPU.

    This is the one host sync of a step (the NaN guard must know before the optimizer
    steps). On CUDA the flag is copied to pinned memory behind an event and `backward` is
    queued before waiting, so the wait covers the forward only and the GPU keeps busy with
    the backward; a non-finite step's gradients are then dropped unused.
    """
    if global_loss.device.type != "cuda":
        finite = bool(torch.isfinite(global_loss))
        if finite:
            backward()
        return finite
    flag = torch.empty((), dtype=torch.bool, pin_memory=True)
    flag.copy_(torch.isfinite(global_loss), non_blocking=True)
    copied = torch.cuda.Event()
    copied.record()
    backward()
    copied.synchronize()
    return bool(flag)


def fit(
    method: nn.Module,
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
) -> TrainResult:
    """Train `method` for `cfg.epochs` epochs (or `cfg.max_steps` steps) on `data`.

    Args:
        data: A map-style `Dataset` of training items, or data held in memory (a tensor,
            a tuple of tensors, a typed `Batch`), which is wrapped in `TensorItems`.
        collate: Makes a batch of the items the loader reads (default: `TensorItems`'s
            pass-through for in-memory data, else torch's `default_collate`). The batch is
            moved to `device` and handed to `method.training_loss`.
    """
    items = data if isinstance(data, Dataset) else TensorItems(data)
    in_memory = isinstance(items, TensorItems)
    if collate is None:
        collate = items.collate if isinstance(items, TensorItems) else default_collate
    n = len(items)  # type: ignore[arg-type]
    batch_size = min(cfg.batch_size, n)
    ddp.per_rank_batch(batch_size)  # the global batch must split evenly over the ranks
    writer = rank() == 0
    steps_per_epoch = n // batch_size  # drop the ragged last batch: BatchNorm needs full ones
    total_steps = cfg.epochs * steps_per_epoch
    stop_step = total_steps if cfg.max_steps is None else min(total_steps, cfg.max_steps)
    warmup_steps = cfg.warmup_epochs * steps_per_epoch

    run_dir.mkdir(parents=True, exist_ok=True)
    if cfg.keep_freed_memory and device.type == "cpu":
        keep_freed_memory()
    torch.manual_seed(seed)
    shuffle_gen = torch.Generator().manual_seed(seed)
    aug_gen = torch.Generator(device=device).manual_seed(seed + 1 + 1000 * rank())
    method.to(device).train()
    with _memory_layout(method, channels_last=cfg.channels_last):
        if cfg.compile:
            method.get_submodule("encoder").compile()  # in place: state-dict keys unchanged
        model = ddp.wrap(method, sync_batchnorm=cfg.sync_batchnorm)
        optimizer = build_optimizer(method, cfg)
        start_step, elapsed, skipped, waited = 0, 0.0, 0, 0.0
        if resume:
            state = load_checkpoint(run_dir / CHECKPOINT)
            method.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            shuffle_gen.set_state(state["shuffle_rng"])
            aug_gen.set_state(state.get("augment_rng_ranks", [state["augment_rng"]])[rank()])
            torch.set_rng_state(state["torch_rng"])
            start_step = state.get("step", state["epoch"] * steps_per_epoch)
            elapsed, skipped = state["elapsed_s"], state["skipped"]
            waited = state.get("data_wait_s", 0.0)
            if writer:
                truncate_log(run_dir / LOG, start_step)
        m: Method = method  # type: ignore[assignment]
        collapse: Collapse | None = None
        health_text, steps_done, stop = "", 0, False

        sampler = ShuffledBatches(n, batch_size=batch_size, generator=shuffle_gen)
        loader_gen = torch.Generator()
        pin = device.type == "cuda"
        loader = Waited(
            build_loader(
                items,
                sampler,
                collate=collate,
                workers=auto_workers(cfg.workers, in_memory=in_memory),
                prefetch_factor=cfg.prefetch_factor,
                generator=loader_gen,
                pin_memory=pin,
            )
        )
        loss_value, last_loss = math.nan, None
        step = start_step
        with (
            TrainProgress(
                total_steps=total_steps,
                epochs=cfg.epochs,
                start_step=start_step,
                enabled=show_progress and writer,
            ) as bar,
            EventLog(run_dir, enabled=writer) as events,
            WandbLog(run_dir, project=cfg.wandb_project, enabled=writer) as wandb_log,
        ):
            for epoch in range(start_step // steps_per_epoch, cfg.epochs):
                if step >= stop_step:
                    break
                t_epoch = time.perf_counter()
                first = sampler.skip = step - epoch * steps_per_epoch  # > 0: resumed mid-epoch
                epoch_rng = shuffle_gen.get_state()  # before this epoch's permutation
                loader_gen.manual_seed(seed + 7919 * (epoch + 1))  # worker seeds of this epoch
                for i, cpu_batch in enumerate(loader, start=first):
                    step = epoch * steps_per_epoch + i
                    lr = warmup_cosine(
                        step, total_steps=total_steps, warmup_steps=warmup_steps, base=cfg.lr
                    )
                    for group in optimizer.param_groups:
                        group["lr"] = lr
                    batch = to_device(cpu_batch, device, non_blocking=pin)
                    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cfg.amp):
                        loss = model(batch, augment=augment, generator=aug_gen)
                    global_loss = ddp.mean_over_ranks(loss)
                    optimizer.zero_grad(set_to_none=True)
                    if not _finite_then(global_loss, loss.backward):
                        skipped += 1
                        if skipped > MAX_SKIPPED_STEPS:
                            raise UserError(
                                f"loss was not finite in {skipped} steps (last at step "
                                f"{step}); lower train.lr or enable train.grad_clip"
                            )
                        optimizer.zero_grad(set_to_none=True)
                        step += 1
                        if step >= stop_step:
                            break
                        continue
                    if cfg.grad_clip is not None:
                        nn.utils.clip_grad_norm_(method.parameters(), cfg.grad_clip)
                    optimizer.step()
                    m.after_step((step + 1) / total_steps)

                    last_loss = global_loss
                    done = i + 1 - first
                    rate = done * batch_size / max(time.perf_counter() - t_epoch, 1e-9)
                    last = step == stop_step - 1
                    measured = monitor is not None and monitor.due(step, last=last)
                    logged = step % cfg.log_every == 0 or last or measured
                    if logged or i == steps_per_epoch - 1:
                        loss_value = float(global_loss)  # the only read of the loss value
                    record = {"step": step, "epoch": epoch, "loss": loss_value, "lr": lr}
                    record["samples_per_s"] = rate
                    if monitor is not None and measured:
                        t_monitor = time.perf_counter()
                        stats, found = monitor.check(step)
                        t_epoch += time.perf_counter() - t_monitor  # not training time
                        record.update(stats)
                        health_text = progress_summary(stats)
                        if found is not None and writer:
                            bar.log(f"[bold yellow]warning:[/] step {step}: {found.symptom}")
                        collapse = collapse or found
                    bar.update(
                        step=step + 1,
                        epoch=epoch,
                        loss=loss_value,
                        samples_per_s=rate,
                        extra=health_text,
                    )
                    steps_done += 1
                    if writer and logged:
                        append_jsonl(run_dir / LOG, record)
                        events.write(record)
                        wandb_log.write(record)
                    step += 1
                    stop = stop_on_collapse and ddp.any_rank(collapse is not None)
                    if stop or step >= stop_step:
                        break
                elapsed += time.perf_counter() - t_epoch
                if stop:
                    if writer:
                        bar.log(f"stopped early after step {step - 1} (--stop-on-collapse)")
                    break  # the last checkpoint stays the last complete epoch
                epoch_done = step == (epoch + 1) * steps_per_epoch
                augment_rngs = ddp.gather_objects(aug_gen.get_state())
                if writer:
                    save_checkpoint(
                        run_dir / CHECKPOINT,
                        {
                            "model": method.state_dict(),
                            "optimizer": optimizer.state_dict(),
                            # before the permutation of the epoch that `step` lies in
                            "shuffle_rng": shuffle_gen.get_state() if epoch_done else epoch_rng,
                            "augment_rng": aug_gen.get_state(),
                            "augment_rng_ranks": augment_rngs,
                            "torch_rng": torch.get_rng_state(),
                            "epoch": step // steps_per_epoch,  # complete epochs
                            "step": step,
                            "elapsed_s": elapsed,
                            "data_wait_s": waited + loader.wait_s,
                            "skipped": skipped,
                        },
                    )
                if on_epoch_end is not None and epoch_done:
                    on_epoch_end(epoch + 1)

    if last_loss is not None:
        loss_value = float(last_loss)
    trained = (start_step + steps_done) * batch_size
    return TrainResult(
        train_time_s=elapsed,
        samples_per_s=trained / elapsed if elapsed > 0 else 0.0,
        peak_mem_mib=peak_memory_mib(device),
        final_loss=loss_value,
        skipped_steps=skipped,
        data_wait_s=waited + loader.wait_s,
        collapse=collapse,
    )
