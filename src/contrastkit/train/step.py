"""One training step: learning rate, loss, NaN guard, backward, clipping, optimizer step,
the method's state update.

The loss value stays on the device: the NaN guard's finite flag is the step's one read on
the host (`finite_then`); the loop reads the value itself only at logged steps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass
from typing import Any

import torch
from torch import Tensor, nn

from contrastkit.augment.types import Augment
from contrastkit.errors import UserError
from contrastkit.methods.base import InBatchMethod, Method
from contrastkit.schedule import warmup_cosine
from contrastkit.train import ddp
from contrastkit.train.grad_cache import cached_loss
from contrastkit.train.optim import build_optimizer, set_lr
from contrastkit.train.options import TrainConfig
from contrastkit.train.speed import Speedups


@dataclass(frozen=True)
class StepResult:
    """What one step hands the loop.

    Attributes:
        loss: The loss averaged over ranks, detached, on the device (not read here).
        finite: False when the NaN guard skipped the step (no parameter changed).
        lr: The learning rate of the step.
    """

    loss: Tensor
    finite: bool
    lr: float


def finite_then(global_loss: Tensor, backward: Callable[[], None]) -> bool:
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


LossAndBackward = Callable[[Any, torch.Generator], tuple[Tensor, Callable[[], None]]]
"""(batch, generator) -> (this rank's loss, the backward that fills `.grad`)."""


def plain_loss(model: nn.Module, augment: Augment) -> LossAndBackward:
    """The loss through `model` (the method, or DDP around it) and autograd's backward."""

    def loss_and_backward(batch: Any, generator: torch.Generator) -> tuple[Tensor, Any]:
        loss: Tensor = model(batch, augment=augment, generator=generator)
        return loss, loss.backward

    return loss_and_backward


@dataclass(eq=False)
class TrainStep:
    """`step(batch, index, generator)`: one optimisation step on a batch on the device.

    Args:
        method: The method (its parameters, `after_step`).
        loss_and_backward: The forward of the step (`plain_loss`, or GradCache's).
        optimizer: Steps the parameters.
        cfg: lr, warm-up, clipping, AMP.
        total_steps: Steps of the whole run (the schedule and the methods' progress).
        warmup_steps: Linear warm-up steps of the schedule.
    """

    method: Method[Any]
    loss_and_backward: LossAndBackward
    optimizer: torch.optim.Optimizer
    _: KW_ONLY
    cfg: TrainConfig
    total_steps: int
    warmup_steps: int

    def __call__(self, batch: Any, step: int, generator: torch.Generator) -> StepResult:
        cfg = self.cfg
        lr = warmup_cosine(
            step, total_steps=self.total_steps, warmup_steps=self.warmup_steps, base=cfg.lr
        )
        set_lr(self.optimizer, lr)
        device_type = next(self.method.parameters()).device.type
        with torch.autocast(device_type, dtype=torch.bfloat16, enabled=cfg.amp):
            loss, backward = self.loss_and_backward(batch, generator)
        global_loss = ddp.mean_over_ranks(loss)
        self.optimizer.zero_grad(set_to_none=True)
        if not finite_then(global_loss, backward):
            self.optimizer.zero_grad(set_to_none=True)
            return StepResult(global_loss, finite=False, lr=lr)
        if cfg.grad_clip is not None:
            nn.utils.clip_grad_norm_(self.method.parameters(), cfg.grad_clip)
        self.optimizer.step()
        self.method.after_step((step + 1) / self.total_steps)
        return StepResult(global_loss, finite=True, lr=lr)


def grad_cache_loss(
    method: Method[Any], augment: Augment, *, chunk_size: int, amp: Callable[[], Any]
) -> LossAndBackward:
    """GradCache's forward (`train/grad_cache.py`): the method's views of the whole batch,
    their embeddings in chunks of `chunk_size` without autograd, the loss over all of
    them; the backward re-embeds chunk by chunk (under `amp`) and, under torchrun,
    averages the gradients over ranks once (DDP's convention).

    Raises:
        UserError: The method's loss is not over the embeddings of the whole batch.
    """
    if not isinstance(method, InBatchMethod):
        raise UserError(
            f"train.grad_cache_chunk: {type(method).__name__} has no loss over the whole "
            "batch's embeddings (in-batch negatives) to cache; GradCache trains simclr, "
            "supcon, dcl, clip, siglip, text_pairs and the other in-batch methods"
        )

    def loss_and_backward(batch: Any, generator: torch.Generator) -> tuple[Tensor, Any]:
        inputs = method.views(batch, augment=augment, generator=generator)
        towers = [method.embedder(i) for i in range(len(inputs))]
        loss, backward = cached_loss(
            towers,
            inputs,
            lambda *z: method.embedding_loss(z, batch),
            chunk_size=chunk_size,
            keep_buffers=method,
            autocast=amp,
        )

        def backward_and_average() -> None:
            backward()
            ddp.average_gradients(method)

        return loss, backward_and_average

    return loss_and_backward


def build_step(
    method: Method[Any],
    augment: Augment,
    cfg: TrainConfig,
    speed: Speedups,
    *,
    total_steps: int,
    warmup_steps: int,
) -> TrainStep:
    """The step of a run: DDP around the method under torchrun (or GradCache's chunked
    forward when `train.grad_cache_chunk`) and its optimizer."""
    if cfg.grad_cache_chunk is None:
        loss = plain_loss(ddp.wrap(method, sync_batchnorm=cfg.sync_batchnorm), augment)
    else:
        device_type = next(method.parameters()).device.type

        def amp() -> Any:
            return torch.autocast(device_type, dtype=torch.bfloat16, enabled=cfg.amp)

        loss = grad_cache_loss(method, augment, chunk_size=cfg.grad_cache_chunk, amp=amp)
    return TrainStep(
        method,
        loss,
        build_optimizer(method, cfg, fused=speed.fused_adamw),
        cfg=cfg,
        total_steps=total_steps,
        warmup_steps=warmup_steps,
    )
