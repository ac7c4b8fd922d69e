"""Unsupervised SimCSE (Gao et al. 2021, arXiv:2104.08821): a sentence and itself under two
dropout masks are a positive pair; the other sentences of the batch are negatives.

    L = (1/N) sum_i -log [ exp(cos(h_i, h'_i) / tau) / sum_j exp(cos(h_i, h'_j) / tau) ]

with h, h' the encoder outputs of the same N sentences in two forward passes (dropout on),
i.e. InfoNCE between the two passes (the paper uses tau = 0.05).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import torch
from pydantic import Field
from torch import Tensor, nn

from contrastkit.batches import SentenceBatch
from contrastkit.encoders.text import Tokens, tokenize
from contrastkit.losses import InfoNCELoss
from contrastkit.methods.base import InBatchMethod, Inputs, MethodContext, MethodOptions
from contrastkit.methods.texts import embed_texts, text_input


class SimCSEConfig(MethodOptions):
    """Unsupervised SimCSE (arXiv:2104.08821): a text against itself under two dropout
    masks, InfoNCE over the batch; paper temperature 0.05."""

    name: Literal["simcse"] = "simcse"
    temperature: float = Field(0.05, gt=0.0)


def sentence_tensors(tokenizer: object, sentences: list[str], *, max_length: int) -> SentenceBatch:
    """The loop's data for SimCSE: ids and attention mask, each Shape: (N, L)."""
    tokens: Tokens = tokenize(tokenizer, sentences, max_length=max_length)
    return SentenceBatch(ids=tokens.ids, mask=tokens.mask)


class SimCSE(InBatchMethod[SentenceBatch]):
    """A text encoder trained with InfoNCE between two dropout views of each sentence.

    Args:
        encoder: (B, L) ids + (B, L) mask -> (B, D), with dropout in train mode.
        temperature: InfoNCE temperature tau > 0 (logits are cos / tau).
    """

    def __init__(self, encoder: nn.Module, *, temperature: float) -> None:
        super().__init__(encoder)
        self.loss = InfoNCELoss(temperature=temperature)

    def views(
        self, batch: SentenceBatch, *, augment: Any, generator: torch.Generator | None = None
    ) -> tuple[Inputs, ...]:
        """Every sentence twice, ids and mask Shape: (B, L) each time: the two passes draw
        their own dropout masks."""
        sentences = text_input(batch.ids, batch.mask, augment, generator)
        return sentences, dict(sentences)

    def embed_views(self, inputs: Sequence[Inputs]) -> list[Tensor]:
        """Both passes in one, rows grouped by length; each row its own dropout mask."""
        return embed_texts(self.encoder, inputs)

    def embedding_loss(self, embeddings: Sequence[Tensor], batch: SentenceBatch) -> Tensor:
        z_a, z_b = embeddings  # (B, D) each
        return self.loss(z_a, z_b)


def build_simcse(options: SimCSEConfig, encoder: nn.Module, ctx: MethodContext) -> SimCSE:
    """SimCSE: no projection head (the encoder output is the embedding)."""
    return SimCSE(encoder, temperature=options.temperature)
