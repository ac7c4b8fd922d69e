"""Unsupervised SimCSE (Gao et al. 2021, arXiv:2104.08821): a sentence and itself under two
dropout masks are a positive pair; the other sentences of the batch are negatives.

    L = (1/N) sum_i -log [ exp(cos(h_i, h'_i) / tau) / sum_j exp(cos(h_i, h'_j) / tau) ]

with h, h' the encoder outputs of the same N sentences in two forward passes (dropout on),
i.e. InfoNCE between the two passes (the paper uses tau = 0.05).
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field
from torch import Tensor, nn

from contrastkit.augment.types import Augment
from contrastkit.batches import SentenceBatch
from contrastkit.encoders.text import Tokens, encode_by_length, tokenize
from contrastkit.losses import info_nce
from contrastkit.methods.options import MethodContext, MethodOptions


class SimCSEConfig(MethodOptions):
    """Unsupervised SimCSE (arXiv:2104.08821): a text against itself under two dropout
    masks, InfoNCE over the batch; paper temperature 0.05."""

    name: Literal["simcse"] = "simcse"
    temperature: float = Field(0.05, gt=0.0)


def sentence_tensors(tokenizer: object, sentences: list[str], *, max_length: int) -> SentenceBatch:
    """The loop's data for SimCSE: ids and attention mask, each Shape: (N, L)."""
    tokens: Tokens = tokenize(tokenizer, sentences, max_length=max_length)
    return SentenceBatch(ids=tokens.ids, mask=tokens.mask)


class SimCSE(nn.Module):
    """A text encoder trained with InfoNCE between two dropout views of each sentence.

    Args:
        encoder: (B, L) ids + (B, L) mask -> (B, D), with dropout in train mode.
        temperature: InfoNCE temperature tau > 0 (logits are cos / tau).
    """

    def __init__(self, encoder: nn.Module, *, temperature: float) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        self.encoder = encoder
        self.temperature = temperature

    def training_loss(
        self, batch: SentenceBatch, *, augment: Augment, generator: torch.Generator | None = None
    ) -> Tensor:
        """InfoNCE of one batch: batch.ids and batch.mask, each Shape: (B, L)."""
        mask = batch.mask
        ids = augment(batch.ids, generator)
        if not isinstance(ids, Tensor):
            raise TypeError("SimCSE takes one view per text; the augment returned a view set")
        # The doubled batch, grouped by length: each row draws its own dropout mask.
        z_a, z_b = encode_by_length(self.encoder, [(ids, mask), (ids, mask)])  # (B, D) each
        return info_nce(z_a, z_b, self.temperature)

    def after_step(self, progress: float) -> None:
        """SimCSE keeps no state between steps."""


def build_simcse(options: SimCSEConfig, encoder: nn.Module, ctx: MethodContext) -> SimCSE:
    """SimCSE: no projection head (the encoder output is the embedding)."""
    return SimCSE(encoder, temperature=options.temperature)
