"""A BERT forward pass over the real tokens only: padding costs nothing outside attention.

A batch of texts is padded to its longest text, and `transformers`' `BertModel` computes every
padded position as if it were a token: its linear layers, layer norms and feed-forward blocks
act on each position alone. Here the real tokens are packed into one (T, D) matrix for all
that acts per token, and spread into a padded layout only for attention, the one operation
that mixes the tokens of a text, with the texts cut into groups of similar length
(`length_groups`) so that attention too computes little padding. This is the "unpadding" of
MosaicBERT and of flash-attention's BERT, in plain PyTorch on the model's own modules and
weights.

The result is `BertModel`'s followed by mean pooling (`contrastkit.encoders.text.mean_pool`),
up to float rounding: each token keeps the position id of its column, and a padded key gets
no attention weight, as in `transformers`. With dropout on (training) the random masks are
drawn in another order, so a run is not bit-equal to one through `BertModel.forward`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from contrastkit.encoders.length_groups import length_groups


def packs(backbone: nn.Module) -> bool:
    """Whether `packed_mean` computes `backbone`'s function: a `transformers` `BertModel`
    encoder (no decoder, no cross-attention) with absolute position embeddings (a config
    without `position_embedding_type` has them)."""
    try:
        from transformers import BertModel
    except ImportError:
        return False
    if type(backbone) is not BertModel:
        return False
    config: Any = backbone.config
    return (
        not config.is_decoder
        and not config.add_cross_attention
        and getattr(config, "position_embedding_type", "absolute") == "absolute"
    )


@dataclass(frozen=True)
class _Bucket:
    """Rows of similar length laid out (rows, width) for attention.

    Attributes:
        tokens: Which packed tokens belong to these rows. Shape: (t,).
        slots: Where each of them sits in the flattened (rows * width) layout. Shape: (t,).
        keys: True on real tokens. Shape: (rows, 1, 1, width).
    """

    tokens: Tensor
    slots: Tensor
    keys: Tensor


def _buckets(real: Tensor, rows: Tensor, cols: Tensor) -> tuple[list[_Bucket], Tensor]:
    """The rows with real tokens cut into groups of similar extent (`length_groups`), and
    the order that puts the groups' tokens back in packed order."""
    columns = torch.arange(1, real.shape[1] + 1, device=real.device)
    extent = torch.where(real, columns, 0).amax(dim=1)  # (B,): last real column + 1
    used = extent.nonzero(as_tuple=True)[0]
    local = torch.empty_like(extent)
    buckets = []
    for group in length_groups(extent[used]):
        members = used[group]
        width = int(extent[members].max())
        local[members] = torch.arange(len(members), device=real.device)
        tokens = torch.isin(rows, members).nonzero(as_tuple=True)[0]
        slots = local[rows[tokens]] * width + cols[tokens]
        keys = real[members, None, None, :width]
        buckets.append(_Bucket(tokens=tokens, slots=slots, keys=keys))
    back = torch.cat([bucket.tokens for bucket in buckets]).argsort()
    return buckets, back


def packed_mean(backbone: nn.Module, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
    """The mean of the last hidden states over each text's real tokens, computed on those
    tokens only (see the module docstring).

    Args:
        backbone: A `BertModel` for which `packs` is True.
        input_ids: Shape: (B, L).
        attention_mask: 1 on real tokens, 0 on padding. Shape: (B, L).

    Returns:
        Shape: (B, D); a row without real tokens is 0, as `mean_pool` gives it.
    """
    bert: Any = backbone
    real = attention_mask.bool()
    rows, cols = real.nonzero(as_tuple=True)  # (T,) each: the real tokens in row order
    if len(rows) == 0:  # no text has a token: every mean is 0, as `mean_pool` gives it
        return bert.embeddings.word_embeddings.weight.new_zeros(
            real.shape[0], bert.config.hidden_size
        )
    buckets, back = _buckets(real, rows, cols)
    x = _embed(bert.embeddings, input_ids[rows, cols], cols)  # (T, D)
    for layer in bert.encoder.layer:
        mixed = _attend(layer.attention.self, x, buckets, back)
        x = layer.attention.output(mixed, x)  # dense, dropout, LayerNorm(+ x)
        x = layer.output(layer.intermediate(x), x)  # feed-forward, dropout, LayerNorm(+ x)
    sums = x.new_zeros(real.shape[0], x.shape[1]).index_add(0, rows, x)  # (B, D)
    counts = attention_mask.sum(dim=1, keepdim=True).clamp_min(1).to(x.dtype)  # (B, 1)
    return sums / counts


def _embed(embeddings: Any, token_ids: Tensor, positions: Tensor) -> Tensor:
    """BertEmbeddings on packed tokens (token type 0, as `BertModel` gives without types).
    Shapes: (T,), (T,) -> (T, D)."""
    words = embeddings.word_embeddings(token_ids)
    types = embeddings.token_type_embeddings.weight[0]
    x = words + types + embeddings.position_embeddings(positions)
    return embeddings.dropout(embeddings.LayerNorm(x))


def _attend(attention: Any, x: Tensor, buckets: list[_Bucket], back: Tensor) -> Tensor:
    """BertSelfAttention on packed tokens: one projection to queries, keys and values, then
    scaled dot-product attention in each bucket's (rows, heads, width, head size) layout.

    Shapes: x (T, D) -> (T, D).
    """
    heads, size = attention.num_attention_heads, attention.attention_head_size
    weight = torch.cat([attention.query.weight, attention.key.weight, attention.value.weight])
    bias = torch.cat([attention.query.bias, attention.key.bias, attention.value.bias])
    qkv = F.linear(x, weight, bias)  # (T, 3 * D)
    dropout = attention.dropout.p if attention.training else 0.0
    pieces = []
    for bucket in buckets:
        count, width = bucket.keys.shape[0], bucket.keys.shape[-1]
        spread = qkv.new_zeros(count * width, qkv.shape[1])
        spread = spread.index_copy(0, bucket.slots, qkv[bucket.tokens])
        q, k, v = spread.view(count, width, 3, heads, size).permute(2, 0, 3, 1, 4)
        mixed = F.scaled_dot_product_attention(
            q, k, v, attn_mask=bucket.keys, dropout_p=dropout, scale=attention.scaling
        )  # (rows, H, width, S); every row has a real key, so no row is all masked
        pieces.append(mixed.transpose(1, 2).reshape(count * width, heads * size)[bucket.slots])
    return torch.cat(pieces)[back]
