"""SimCLR written as the three calls GradCache makes (views, embedder, loss over the
embeddings) for the GradCache trainer tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from contrastkit.batches import ImageBatch
from contrastkit.losses import nt_xent
from contrastkit.methods.simclr import SimCLR
from contrastkit.methods.views import halves, stacked_views


class InBatchSimCLR(SimCLR):
    def views(
        self, batch: ImageBatch, *, augment: Any, generator: torch.Generator | None = None
    ) -> tuple[Tensor, ...]:
        return (stacked_views(batch.images, augment, generator),)

    def embedder(self, index: int) -> Callable[[Any], Tensor]:
        return self.projection

    def embedding_loss(self, embeddings: Sequence[Tensor], batch: ImageBatch) -> Tensor:
        z_a, z_b = halves(embeddings[0])
        return nt_xent(z_a, z_b, temperature=self.temperature, gather=True)


def no_batch_stats() -> InBatchSimCLR:
    """SimCLR on an MLP without BatchNorm: a chunk is normalised as the whole batch is."""
    torch.manual_seed(0)
    encoder = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.GELU(), nn.Linear(32, 16))
    head = nn.Sequential(nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 8))
    return InBatchSimCLR(encoder, head, temperature=0.3)
