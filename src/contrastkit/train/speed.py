"""How a run is made fast on its device: `torch.compile` of the network, CUDA graphs and the
fused AdamW, chosen once before training and printed with the run's settings.

- `train.compile` None (the default): on for CUDA runs of at least `COMPILE_MIN_STEPS`
  steps (compiling takes a minute or so of warm-up, which a short run does not win back),
  off on the CPU (2 CPU cores: 1.06x faster steps, and the compiler needs a C++ toolchain
  at run time). True or False forces it.
- `train.compile_mode` "auto": "reduce-overhead" on CUDA (CUDA graphs: the batch shapes of
  a run are static, the ragged last batch is dropped, so each step replays one recorded
  graph instead of launching every kernel from Python), "default" on the CPU.
- The encoder (and head) are compiled in place for the time of `fit` only: the state-dict
  keys stay the same, and what uses the model after training (evaluation, `embed`) runs it
  eagerly, without compiling again for each new batch shape.
- AdamW is fused (one kernel for all parameters) on CUDA and on the CPU: the same update,
  and on the CPU 8x faster than the per-tensor loop (MiniLM's 22.7M parameters: 16 ms
  against 130 ms a step, 1 thread), which a text run's step spends a tenth of its time in.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn

from contrastkit.train.options import TrainConfig

FUSED_DEVICES = ("cuda", "cpu")
"""Devices where torch has AdamW's fused kernel."""
COMPILE_MIN_STEPS = 20_000
"""Without `train.compile`, a CUDA run of at least this many steps is compiled."""


@dataclass(frozen=True)
class Speedups:
    """What a run uses to go fast on its device.

    Attributes:
        compile_mode: The `torch.compile` mode of the network, None: eager.
        fused_adamw: AdamW's fused kernel (CUDA, CPU).
    """

    compile_mode: str | None
    fused_adamw: bool

    def line(self) -> str:
        """The `speed:` line printed with the run's settings."""
        if self.compile_mode is None:
            compiled = "eager (train.compile=true compiles)"
        elif self.compile_mode == "reduce-overhead":
            compiled = "torch.compile (reduce-overhead: CUDA graphs)"
        else:
            compiled = f"torch.compile ({self.compile_mode})"
        optimizer = ", fused AdamW" if self.fused_adamw else ""
        return f"speed: {compiled}{optimizer}"


def choose_speedups(cfg: TrainConfig, device: torch.device, total_steps: int) -> Speedups:
    """The speed-ups of a run of `total_steps` steps on `device` (see the module doc)."""
    cuda = device.type == "cuda"
    compiled = cfg.compile if cfg.compile is not None else cuda and total_steps >= COMPILE_MIN_STEPS
    mode = cfg.compile_mode
    if mode == "auto":
        mode = "reduce-overhead" if cuda else "default"
    return Speedups(
        compile_mode=mode if compiled else None,
        fused_adamw=device.type in FUSED_DEVICES and cfg.optimizer == "adamw",
    )


@contextmanager
def compiled(method: nn.Module, mode: str | None) -> Iterator[None]:
    """`method.encoder` and `method.head` (when it has one) compiled in place for the
    body, eager again afterwards (whatever ends the body)."""
    if mode is None:
        yield
        return
    parts = [child for name, child in method.named_children() if name in ("encoder", "head")]
    for part in parts:
        part.compile(mode=mode)  # in place: state-dict keys unchanged
    try:
        yield
    finally:
        for part in parts:
            part._compiled_call_impl = None  # nn.Module.compile's handle: back to eager
