"""SimCLR written as the three calls GradCache makes (views, embedder, loss over the
embeddings) for the GradCache trainer tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor

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
