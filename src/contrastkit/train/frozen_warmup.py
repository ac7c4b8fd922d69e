"""A short warm-up with the pretrained encoder frozen: the new projection head learns first,
so its first random gradients do not reach the pretrained weights (linear probing, then
fine-tuning: Kumar et al., arXiv:2202.10054)."""

from __future__ import annotations

from torch import nn

from contrastkit.train.callbacks import Callback, LoopState


class FrozenWarmup(Callback):
    """Holds `encoder` fixed for the first `epochs` epochs: no gradients and eval mode
    (BatchNorm statistics kept); from then on, the parameters that were trainable train again
    and the encoder follows the mode of training. Decided at each epoch's start from the
    epoch alone, so a resumed run freezes exactly as an uninterrupted one.

    Args:
        encoder: The method's encoder, after the optimizer took its parameters.
        epochs: How many epochs it stays frozen (0: never).
    """

    def __init__(self, encoder: nn.Module, epochs: int) -> None:
        if epochs < 0:
            raise ValueError(f"epochs must be >= 0, got {epochs}")
        self.encoder = encoder
        self.epochs = epochs
        self.trainable = [p for p in encoder.parameters() if p.requires_grad]
        self.frozen = False

    def on_epoch_start(self, state: LoopState) -> None:
        self.hold(state.epoch < self.epochs)

    def hold(self, frozen: bool) -> None:
        """Freeze (True) or release (False) the encoder."""
        if frozen == self.frozen:
            return
        self.frozen = frozen
        for param in self.trainable:
            param.requires_grad_(not frozen)
        self.encoder.train(not frozen)
