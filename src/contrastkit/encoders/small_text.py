"""A small character-level text encoder for two-tower training (no download, no vocabulary).

Characters, not words, so that words never seen in training still get a meaningful
embedding from their spelling (zero-shot on held-out words).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

ALPHABET = " abcdefghijklmnopqrstuvwxyz0123456789'-.,!?"
LATIN = ALPHABET + "ßàáâãäåæçèéêëìíîïðñòóôõöøùúûüýþÿœ"
"""ALPHABET and the lower-case letters of Latin-1 and œ: German, French, Spanish, Italian,
Portuguese, Dutch, ... spelled with their accents (ASCII ids unchanged)."""
ALPHABETS = {"ascii": ALPHABET, "latin": LATIN}
PAD, UNKNOWN = 0, 1


class CharTokenizer:
    """Lower-cased characters -> ids (0 = padding, 1 = unknown character), fixed length.

    Args:
        max_len: Texts are cut to this many characters and padded to it.
        alphabet: The characters with an id of their own (id = 2 + position).
    """

    def __init__(self, *, max_len: int = 32, alphabet: str = ALPHABET) -> None:
        if max_len < 1 or not alphabet:
            raise ValueError(f"need max_len >= 1 and an alphabet, got {max_len} and {alphabet!r}")
        self.max_len = max_len
        self.alphabet = alphabet
        self.index = {c: i + 2 for i, c in enumerate(alphabet)}

    @property
    def vocab_size(self) -> int:
        return len(self.alphabet) + 2

    def encode(self, texts: list[str]) -> Tensor:
        """Shape: N texts -> (N, max_len) int64."""
        ids = torch.full((len(texts), self.max_len), PAD, dtype=torch.int64)
        for row, text in enumerate(texts):
            chars = [self.index.get(c, UNKNOWN) for c in text.lower()[: self.max_len]]
            ids[row, : len(chars)] = torch.tensor(chars, dtype=torch.int64)
        return ids


class SmallTextEncoder(nn.Module):
    """Character embeddings, two residual 1-D conv blocks (kernel 3), masked mean + max
    pooling over the characters, then a linear layer.

    Args:
        vocab_size: Number of token ids (`CharTokenizer.vocab_size`).
        width: Embedding and conv channels.
        feature_dim: Size of the output.

    Shape:
        input (B, L) int64 token ids (0 = padding) -> output (B, feature_dim).
    """

    def __init__(self, *, vocab_size: int, width: int = 64, feature_dim: int = 128) -> None:
        super().__init__()
        if min(vocab_size, width, feature_dim) < 1:
            raise ValueError(
                "vocab_size, width, feature_dim must be >= 1, got "
                f"{vocab_size}, {width}, {feature_dim}"
            )
        self.embed = nn.Embedding(vocab_size, width, padding_idx=PAD)
        self.convs = nn.ModuleList(
            [nn.Conv1d(width, width, kernel_size=3, padding=1) for _ in range(2)]
        )
        self.norms = nn.ModuleList([nn.LayerNorm(width) for _ in range(2)])
        self.fc = nn.Linear(2 * width, feature_dim)

    def forward(self, ids: Tensor) -> Tensor:
        if ids.ndim != 2 or ids.dtype != torch.int64:
            raise ValueError(f"expected int64 token ids (B, L), got {ids.dtype} {tuple(ids.shape)}")
        keep = (ids != PAD).unsqueeze(-1)  # (B, L, 1)
        h = self.embed(ids)  # (B, L, W)
        for conv, norm in zip(self.convs, self.norms, strict=True):
            h = h + torch.relu(conv(norm(h).transpose(1, 2)).transpose(1, 2))
            h = h * keep  # padding never leaks into its neighbours
        count = keep.sum(dim=1).clamp_min(1)  # (B, 1)
        mean = h.sum(dim=1) / count  # (B, W)
        peak = h.masked_fill(~keep, float("-inf")).amax(dim=1)  # (B, W)
        peak = torch.where(torch.isfinite(peak), peak, torch.zeros_like(peak))  # empty text
        out: Tensor = self.fc(torch.cat([mean, peak], dim=1))
        return out
