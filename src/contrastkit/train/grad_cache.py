"""GradCache: a contrastive step over a batch far larger than activation memory.

Gao et al., 2021, "Scaling Deep Contrastive Learning Batch Size under Memory Limited
Setup", arXiv:2101.06983. The loss couples every sample with every other, so the batch
cannot simply be split into accumulation steps. Instead:

1. embed the batch in chunks without autograd (only the (B, D) embeddings are kept);
2. compute the loss on all embeddings and backpropagate to them (cheap: no encoder);
3. re-embed each chunk with autograd and backpropagate its slice of the embedding
   gradient into the encoder.

Parameter gradients equal those of the uncached step. The random state (dropout,
on-device augmentation inside ``encode``) is replayed so both forwards of a chunk see the
same randomness. BatchNorm normalises each chunk with the chunk's statistics (as each rank
of a DDP run does without SyncBatchNorm); `keep_buffers` keeps the first, gradient-free
forward from moving the running statistics, so only the second one does. The trainer
(`train.grad_cache_chunk`, `train/step.py`) calls `cached_loss`, whose backward runs after
the NaN guard; under DDP it averages the gradients once after all chunks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext

import torch
from torch import Tensor, nn

__all__ = ["Batch", "cached_loss"]

Batch = Tensor | Mapping[str, Tensor]
"""A model input: a tensor or a dict of tensors (e.g. tokenizer output), batch-first."""


def _size(batch: Batch) -> int:
    if isinstance(batch, Tensor):
        return batch.shape[0]
    sizes = {v.shape[0] for v in batch.values()}
    if len(sizes) != 1:
        raise ValueError(f"all tensors of a dict input need the same batch size, got {sizes}")
    return sizes.pop()


def _slice(batch: Batch, start: int, stop: int) -> Batch:
    if isinstance(batch, Tensor):
        return batch[start:stop]
    return {k: v[start:stop] for k, v in batch.items()}


class _RandomState:
    """CPU and CUDA generator states at one point, restorable later."""

    def __init__(self) -> None:
        self.cpu = torch.get_rng_state()
        self.cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None

    @contextmanager
    def replay(self) -> Iterator[None]:
        """Run the body from this state, then continue from the state before the body."""
        with torch.random.fork_rng(devices=[] if self.cuda is None else None):
            torch.set_rng_state(self.cpu)
            if self.cuda is not None:
                torch.cuda.set_rng_state_all(self.cuda)
            yield


def _bounds(inputs: Sequence[Batch], chunk_size: int, encoders: int) -> list[tuple[int, int]]:
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    if not inputs:
        raise ValueError("cached_loss needs at least one input batch")
    if encoders != len(inputs):
        raise ValueError(f"got {encoders} encoders for {len(inputs)} inputs")
    sizes = [_size(x) for x in inputs]
    if len(set(sizes)) != 1:
        raise ValueError(f"all inputs need the same batch size, got {sizes}")
    return [(s, min(sizes[0], s + chunk_size)) for s in range(0, sizes[0], chunk_size)]


@contextmanager
def _buffers_kept(module: nn.Module | None) -> Iterator[None]:
    """Every buffer of `module` (BatchNorm's running statistics) as it was before the body."""
    saved = [] if module is None else [buf.clone() for buf in module.buffers()]
    try:
        yield
    finally:
        if module is not None:
            with torch.no_grad():
                for buf, old in zip(module.buffers(), saved, strict=True):
                    buf.copy_(old)


def cached_loss(
    encode: Callable[[Batch], Tensor] | Sequence[Callable[[Batch], Tensor]],
    inputs: Sequence[Batch],
    loss_fn: Callable[..., Tensor],
    *,
    chunk_size: int,
    scale_loss: Callable[[Tensor], Tensor] | None = None,
    keep_buffers: nn.Module | None = None,
    autocast: Callable[[], AbstractContextManager[object]] = nullcontext,
) -> tuple[Tensor, Callable[[], None]]:
    """The loss of the whole batch from chunked, gradient-free forwards (step 1 above), and
    the backward that accumulates into ``.grad`` the parameter gradients of
    ``loss_fn(*embeddings)`` (steps 2 and 3): the caller may look at the loss (a NaN guard)
    before running it.

    Running the backward is equivalent to
    ``loss_fn(*(enc(x) for enc, x in zip(encoders, inputs))).backward()`` but with encoder
    activations for only ``chunk_size`` samples alive at a time. Parameters of ``loss_fn``
    itself (e.g. SigLIP's learnable scale) get their gradient from step 2. Call
    ``optimizer.zero_grad()`` before and ``optimizer.step()`` after.

    Args:
        encode: One encoder for all inputs (two views through one network), or one per
            input (e.g. image and text towers). Each maps a batch to (B, D) embeddings.
        inputs: One batch per ``loss_fn`` argument, each with the same batch size B.
        loss_fn: Maps the embeddings, in the order of ``inputs``, to a scalar loss.
        chunk_size: Samples per encoder forward (>= 1).
        scale_loss: Applied to the loss before its backward, e.g. ``GradScaler.scale``.
        keep_buffers: The module whose buffers the gradient-free forward must not change.
        autocast: Entered around the re-forward of each chunk in the backward (the first
            forward runs in the caller's autocast).

    Returns:
        The loss (its graph reaches the cached embeddings only) and the backward.

    Raises:
        ValueError: On chunk_size < 1, no inputs, mismatched batch sizes or a number of
            encoders that differs from the number of inputs.

    Example:
        >>> loss, backward = cached_loss(model, [view_a, view_b], nt_xent, chunk_size=256)
        >>> backward()
    """
    encoders = [encode] * len(inputs) if callable(encode) else list(encode)
    bounds = _bounds(inputs, chunk_size, len(encoders))

    # 1. Embed without autograd, remembering the random state of every chunk.
    states: list[list[_RandomState]] = []
    cached: list[Tensor] = []
    with torch.no_grad(), _buffers_kept(keep_buffers):
        for enc, batch in zip(encoders, inputs, strict=True):
            row_states, parts = [], []
            for start, stop in bounds:
                row_states.append(_RandomState())
                parts.append(enc(_slice(batch, start, stop)))
            states.append(row_states)
            cached.append(torch.cat(parts).requires_grad_(True))  # (B, D)
    loss = loss_fn(*cached)

    def backward() -> None:
        # 2. Backward of the loss stops at the cached embeddings.
        (scale_loss(loss) if scale_loss is not None else loss).backward()
        # 3. Re-embed each chunk with autograd and push its slice of the gradient in.
        for enc, batch, emb, row_states in zip(encoders, inputs, cached, states, strict=True):
            if emb.grad is None:  # this input does not influence the loss
                continue
            for (start, stop), state in zip(bounds, row_states, strict=True):
                with state.replay(), autocast():
                    out = enc(_slice(batch, start, stop))
                out.backward(gradient=emb.grad[start:stop].to(out.dtype))

    return loss, backward
