"""The training loop: read it top to bottom.

One step: draw a batch from a seeded permutation, set the learning rate from the schedule,
compute the method's loss (autocast when `train.amp`), skip the step if the loss is not
finite (NaN guard), backpropagate, clip, step, let the method update its state (EMA, queue).
A checkpoint is written atomically after every epoch; `resume=True` continues from it with
model, optimizer, RNG and step counter restored, so the result equals an uninterrupted run.
Under torchrun each rank trains on its slice of every global batch through DDP
(`train/ddp.py`) and only rank 0 writes files; an optional `HealthMonitor`
(`train/health.py`) measures the embedding every few steps and can stop a collapsed run.
"""

from __future__ import annotations

import json
import math
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import torch
from torch import Tensor, nn

from contrastkit.atomic import append_jsonl
from contrastkit.augment.types import Augment
from contrastkit.batches import Batch
from contrastkit.distributed import rank
from contrastkit.errors import UserError
from contrastkit.rundir import CHECKPOINT, LOG
from contrastkit.schedule import warmup_cosine
from contrastkit.train import ddp
from contrastkit.train.checkpoint import load_checkpoint, save_checkpoint
from contrastkit.train.health import Collapse, HealthMonitor, progress_summary
from contrastkit.train.optim import build_optimizer
from contrastkit.train.options import TrainConfig
from contrastkit.train.progress import TrainProgress

MAX_SKIPPED_STEPS = 10


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
    collapse: Collapse | None = None


def peak_memory_mib(device: torch.device) -> float:
    """Peak allocated device memory (CUDA), or the process's peak resident set (CPU)."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _truncate_log(path: Path, from_step: int) -> None:
    """Drop log lines a crashed run wrote after its last checkpoint."""
    if not path.is_file():
        return
    keep = [
        line
        for line in path.read_text().splitlines()
        if line and json.loads(line).get("step", 0) < from_step
    ]
    path.write_text("".join(f"{line}\n" for line in keep))


def fit(
    method: nn.Module,
    data: Batch,
    *,
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
    """Train `method` for `cfg.epochs` epochs on `data` (a typed batch of the whole set, e.g.
    an `ImageBatch` of uint8 images (N, C, H, W))."""
    n = len(data)
    batch_size = min(cfg.batch_size, n)
    ddp.per_rank_batch(batch_size)  # the global batch must split evenly over the ranks
    writer = rank() == 0
    steps_per_epoch = n // batch_size  # drop the ragged last batch: BatchNorm needs full ones
    total_steps = cfg.epochs * steps_per_epoch
    warmup_steps = cfg.warmup_epochs * steps_per_epoch

    run_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    shuffle_gen = torch.Generator().manual_seed(seed)
    aug_gen = torch.Generator(device=device).manual_seed(seed + 1 + 1000 * rank())
    method.to(device).train()
    model = ddp.wrap(method, sync_batchnorm=cfg.sync_batchnorm)
    optimizer = build_optimizer(method, cfg)
    start_epoch, elapsed, skipped = 0, 0.0, 0
    if resume:
        state = load_checkpoint(run_dir / CHECKPOINT)
        method.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        shuffle_gen.set_state(state["shuffle_rng"])
        aug_gen.set_state(state.get("augment_rng_ranks", [state["augment_rng"]])[rank()])
        torch.set_rng_state(state["torch_rng"])
        start_epoch, elapsed, skipped = state["epoch"], state["elapsed_s"], state["skipped"]
        if writer:
            _truncate_log(run_dir / LOG, start_epoch * steps_per_epoch)
    m: Method = method  # type: ignore[assignment]
    collapse: Collapse | None = None
    health_text, steps_done, stop = "", 0, False

    loss_value = math.nan
    data_dev = data.to(device)
    with TrainProgress(
        total_steps=total_steps,
        epochs=cfg.epochs,
        start_step=start_epoch * steps_per_epoch,
        enabled=show_progress and writer,
    ) as bar:
        for epoch in range(start_epoch, cfg.epochs):
            t_epoch = time.perf_counter()
            order = torch.randperm(n, generator=shuffle_gen).to(device)
            for i in range(steps_per_epoch):
                step = epoch * steps_per_epoch + i
                lr = warmup_cosine(
                    step, total_steps=total_steps, warmup_steps=warmup_steps, base=cfg.lr
                )
                for group in optimizer.param_groups:
                    group["lr"] = lr
                idx = ddp.shard(order[i * batch_size : (i + 1) * batch_size])  # this rank's part
                batch = data_dev.take(idx)
                with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cfg.amp):
                    loss = model(batch, augment=augment, generator=aug_gen)
                global_loss = ddp.mean_over_ranks(loss)
                if not torch.isfinite(global_loss):
                    skipped += 1
                    if skipped > MAX_SKIPPED_STEPS:
                        raise UserError(
                            f"loss was not finite in {skipped} steps (last at step "
                            f"{step}); lower train.lr or enable train.grad_clip"
                        )
                    optimizer.zero_grad(set_to_none=True)
                    continue
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if cfg.grad_clip is not None:
                    nn.utils.clip_grad_norm_(method.parameters(), cfg.grad_clip)
                optimizer.step()
                m.after_step((step + 1) / total_steps)

                loss_value = float(global_loss)
                done = i + 1
                rate = done * batch_size / max(time.perf_counter() - t_epoch, 1e-9)
                last = step == total_steps - 1
                record = {"step": step, "epoch": epoch, "loss": loss_value, "lr": lr}
                record["samples_per_s"] = rate
                measured = monitor is not None and monitor.due(step, last=last)
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
                if writer and (step % cfg.log_every == 0 or last or measured):
                    append_jsonl(run_dir / LOG, record)
                stop = stop_on_collapse and ddp.any_rank(collapse is not None)
                if stop:
                    break
            elapsed += time.perf_counter() - t_epoch
            if stop:
                if writer:
                    bar.log(f"stopped early after step {step} (--stop-on-collapse)")
                break  # the last checkpoint stays the last complete epoch
            augment_rngs = ddp.gather_objects(aug_gen.get_state())
            if writer:
                save_checkpoint(
                    run_dir / CHECKPOINT,
                    {
                        "model": method.state_dict(),
                        "optimizer": optimizer.state_dict(),
                        "shuffle_rng": shuffle_gen.get_state(),
                        "augment_rng": aug_gen.get_state(),
                        "augment_rng_ranks": augment_rngs,
                        "torch_rng": torch.get_rng_state(),
                        "epoch": epoch + 1,
                        "elapsed_s": elapsed,
                        "skipped": skipped,
                    },
                )
            if on_epoch_end is not None:
                on_epoch_end(epoch + 1)

    trained = (start_epoch * steps_per_epoch + steps_done) * batch_size
    return TrainResult(
        train_time_s=elapsed,
        samples_per_s=trained / elapsed if elapsed > 0 else 0.0,
        peak_mem_mib=peak_memory_mib(device),
        final_loss=loss_value,
        skipped_steps=skipped,
        collapse=collapse,
    )
