"""The checkpoint callback: `checkpoint.pt` after every epoch (and where `max_steps` stops),
and the restore of `--resume`.

A checkpoint holds what continues the run bit for bit: the weights, the optimizer, the
shuffle generator's state before the permutation of the epoch the next step lies in, every
rank's augmentation generator, torch's global RNG, the step, the training time, the data
wait and the skipped steps. Only rank 0 writes; every rank takes part in gathering the
augmentation generators.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, field
from pathlib import Path

import torch
from torch import Tensor, nn

from contrastkit.distributed import rank
from contrastkit.train import ddp
from contrastkit.train.callbacks import Callback, LoopState
from contrastkit.train.checkpoint import load_checkpoint, save_checkpoint
from contrastkit.train.clock import TrainClock
from contrastkit.train.loader import Waited


@dataclass(eq=False)
class Checkpoints(Callback):
    """Saves and restores a run's state.

    Args:
        path: The run's `checkpoint.pt`.
        method: Its state dict is the model.
        optimizer: Its state dict (moments, step counts) is saved with the model.
        shuffle_gen: The generator of the epochs' permutations.
        augment_gen: This rank's generator of the on-device views.
        loader: Its `wait_s` adds to the data wait of earlier processes of the run.
        writer: Whether this rank writes the file (rank 0).

    Attributes:
        saved_step: The step the run's newest checkpoint continues from (None: none yet).
    """

    path: Path
    method: nn.Module
    optimizer: torch.optim.Optimizer
    _: KW_ONLY
    shuffle_gen: torch.Generator
    augment_gen: torch.Generator
    loader: Waited
    writer: bool
    saved_step: int | None = field(default=None, init=False)
    earlier_wait_s: float = field(default=0.0, init=False)
    epoch_rng: Tensor = field(init=False)

    def __post_init__(self) -> None:
        self.epoch_rng = self.shuffle_gen.get_state()

    @property
    def data_wait_s(self) -> float:
        """Seconds the run waited for data, in this process and the ones it resumes."""
        return self.earlier_wait_s + self.loader.wait_s

    def restore(self, state: LoopState) -> None:
        """Continue from the checkpoint: weights, optimizer, generators, step and clock."""
        saved = load_checkpoint(self.path)
        self.method.load_state_dict(saved["model"])
        self.optimizer.load_state_dict(saved["optimizer"])
        self.shuffle_gen.set_state(saved["shuffle_rng"])
        self.augment_gen.set_state(saved.get("augment_rng_ranks", [saved["augment_rng"]])[rank()])
        torch.set_rng_state(saved["torch_rng"])
        state.step = saved.get("step", saved["epoch"] * state.steps_per_epoch)
        state.clock = TrainClock(offset=saved["elapsed_s"])
        state.skipped = saved["skipped"]
        self.earlier_wait_s = saved.get("data_wait_s", 0.0)
        self.saved_step = state.step

    def on_epoch_start(self, state: LoopState) -> None:
        self.epoch_rng = self.shuffle_gen.get_state()  # before this epoch's permutation

    def on_epoch_end(self, state: LoopState) -> None:
        elapsed = state.clock.elapsed
        with state.clock.paused():
            augment_rngs = ddp.gather_objects(self.augment_gen.get_state())
            if self.writer:
                save_checkpoint(
                    self.path,
                    {
                        "model": self.method.state_dict(),
                        "optimizer": self.optimizer.state_dict(),
                        # before the permutation of the epoch that `step` lies in
                        "shuffle_rng": (
                            self.shuffle_gen.get_state() if state.epoch_done else self.epoch_rng
                        ),
                        "augment_rng": self.augment_gen.get_state(),
                        "augment_rng_ranks": augment_rngs,
                        "torch_rng": torch.get_rng_state(),
                        "epoch": state.step // state.steps_per_epoch,  # complete epochs
                        "step": state.step,
                        "elapsed_s": elapsed,
                        "data_wait_s": self.data_wait_s,
                        "skipped": state.skipped,
                    },
                )
        self.saved_step = state.step
