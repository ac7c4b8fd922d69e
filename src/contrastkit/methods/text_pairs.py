"""Supervised text pairs with in-batch negatives ("multiple negatives ranking", Henderson et
al. 2017, arXiv:1705.00652; SBERT's MultipleNegativesRankingLoss) and optional hard negatives.

For a batch of N pairs (a_i, p_i) and hard negatives n_1..n_N (when the data has them):

    s(x, y) = cos(x, y) / tau
    L = (1/N) sum_i [ -s(a_i, p_i)
                      + log( sum_{j not in M_i} exp s(a_i, p_j) + sum_k exp s(a_i, n_k) ) ]

M_i holds the in-batch false negatives of anchor i: rows j != i whose anchor or positive is
the same text as row i's, or whose positive is row i's anchor text (duplicates, and for
WordNet a synset's other words or a polysemous word shared by two meanings). It is
`info_nce(a, p, tau, negatives=n, mask=M)`; tau = 0.05 is SBERT's scale 20.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import torch
from pydantic import Field
from torch import Tensor, nn

from contrastkit.batches import TextPairBatch
from contrastkit.data.text_split import TextPairs
from contrastkit.encoders.text import tokenize
from contrastkit.losses import InfoNCELoss
from contrastkit.methods.base import InBatchMethod, Inputs, MethodContext, MethodOptions
from contrastkit.methods.texts import embed_texts, text_input


class TextPairsConfig(MethodOptions):
    """Supervised text pairs (anchor, positive[, hard negative]) with in-batch negatives and
    duplicate masking, as sentence-transformers' MultipleNegativesRankingLoss; scale 20 there
    is temperature 0.05 here."""

    name: Literal["text_pairs"] = "text_pairs"
    temperature: float = Field(0.05, gt=0.0)


def pair_tensors(tokenizer: object, pairs: TextPairs, *, max_length: int) -> TextPairBatch:
    """The loop's data for `TextPairsMethod`, all indexed by pair (dim 0 = N).

    ids / masks have Shape: (N, L); `anchor_text`, `positive_text` (N,) number each
    distinct text (one numbering for anchors and positives) for duplicate masking; the
    negative fields are None without hard negatives.
    """
    text_id: dict[str, int] = {}
    a_text = torch.tensor([text_id.setdefault(t, len(text_id)) for t in pairs.anchors])
    p_text = torch.tensor([text_id.setdefault(t, len(text_id)) for t in pairs.positives])
    a = tokenize(tokenizer, pairs.anchors, max_length=max_length)
    p = tokenize(tokenizer, pairs.positives, max_length=max_length)
    n = None
    if pairs.negatives is not None:
        n = tokenize(tokenizer, pairs.negatives, max_length=max_length)
    return TextPairBatch(
        anchor_ids=a.ids,
        anchor_mask=a.mask,
        anchor_text=a_text,
        positive_ids=p.ids,
        positive_mask=p.mask,
        positive_text=p_text,
        negative_ids=None if n is None else n.ids,
        negative_mask=None if n is None else n.mask,
    )


def duplicate_mask(anchor_text: Tensor, positive_text: Tensor) -> Tensor:
    """In-batch false negatives: `mask[i, j]` when pair j (j != i) repeats a text of pair i.

    True where a_j == a_i, p_j == p_i, or p_j == a_i (text ids); False on the diagonal.

    Args:
        anchor_text: Text id of each anchor. Shape: (N,).
        positive_text: Text id of each positive, same numbering. Shape: (N,).

    Returns:
        Shape: (N, N), bool.
    """
    if anchor_text.ndim != 1 or positive_text.shape != anchor_text.shape:
        raise ValueError(
            f"need anchor_text and positive_text of shape (N,), got "
            f"{tuple(anchor_text.shape)}, {tuple(positive_text.shape)}"
        )
    a, p = anchor_text, positive_text
    mask = (a[:, None] == a[None, :]) | (p[:, None] == p[None, :]) | (a[:, None] == p[None, :])
    mask.fill_diagonal_(False)
    return mask


class TextPairsMethod(InBatchMethod[TextPairBatch]):
    """A text encoder trained to pick each anchor's positive among the batch's positives
    (and the batch's hard negatives).

    Args:
        encoder: (B, L) ids + (B, L) mask -> (B, D).
        temperature: tau > 0; logits are cos / tau.
        mask_duplicates: Leave repeated texts out of each anchor's negatives.
    """

    def __init__(self, encoder: nn.Module, *, temperature: float, mask_duplicates: bool) -> None:
        super().__init__(encoder)
        self.loss = InfoNCELoss(temperature=temperature)
        self.mask_duplicates = mask_duplicates

    def views(
        self, batch: TextPairBatch, *, augment: Any, generator: torch.Generator | None = None
    ) -> tuple[Inputs, ...]:
        """Anchors, positives and (when the batch has them) hard negatives: ids and mask,
        each Shape: (B, L)."""
        texts = [(batch.anchor_ids, batch.anchor_mask), (batch.positive_ids, batch.positive_mask)]
        if batch.negative_ids is not None:
            if batch.negative_mask is None:
                raise ValueError("a TextPairBatch with negative_ids needs negative_mask")
            texts.append((batch.negative_ids, batch.negative_mask))
        return tuple(text_input(ids, mask, augment, generator) for ids, mask in texts)

    def embed_views(self, inputs: Sequence[Inputs]) -> list[Tensor]:
        """Anchors, positives and negatives in one pass, rows grouped by length."""
        return embed_texts(self.encoder, inputs)

    def embedding_loss(self, embeddings: Sequence[Tensor], batch: TextPairBatch) -> Tensor:
        """InfoNCE of anchors (B, D) against positives (B, D) and hard negatives (B, D)."""
        z_a, z_p, *z_n = embeddings
        mask = (
            duplicate_mask(batch.anchor_text, batch.positive_text) if self.mask_duplicates else None
        )
        return self.loss(z_a, z_p, z_n[0] if z_n else None, mask=mask)


def build_text_pairs(
    options: TextPairsConfig, encoder: nn.Module, ctx: MethodContext
) -> TextPairsMethod:
    """Multiple-negatives ranking, duplicates masked."""
    return TextPairsMethod(encoder, temperature=options.temperature, mask_duplicates=True)
