"""Traceable forms of the encoders: the exact function a user calls, as one module that an
exporter can trace. A modality builds the form of each model it exports
(`Modality.export_spec`); `contrastkit export` and `serve --backend torch` run it as is.

Tracing (`contrastkit.export.onnx`) records one run, so what an encoder decides from its
input's *values* (a Python `if` on a dtype is fine, an `int()` of a tensor is not) is
fixed at export time. These wrappers give each encoder a forward with no such decision:

- `ImageInput`: uint8 images -> the float scaling the training loop applies -> encoder.
  Any image encoder (SmallCNN, and ResNet / ViT alike) needs no code of its own.
- `TextEmbedding`: `contrastkit.encoders.text.TextEncoder` without its trim of unused
  padding columns (a data-dependent length; the padded form gives the same vectors).
- `SharedSpaceInputs` / `SharedSpaceTexts`: the two towers of a two-tower model
  (`contrastkit.methods.clip.TwoTower`), each into the shared space, as two models.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from contrastkit.encoders.text import mean_pool


class ImageInput(nn.Module):
    """uint8 images -> float in [0, 1] (x / 255) -> optional (x - mean) / std -> encoder.

    Args:
        encoder: (B, C, H, W) float -> (B, D).
        mean: Per-channel mean to subtract after scaling, or None (the encoder does its
            own normalisation, or none is done: contrastkit's training feeds x / 255).
        std: Per-channel standard deviation, given with `mean`.

    Shape:
        input (B, C, H, W) uint8 -> output (B, D).
    """

    mean: Tensor
    std: Tensor

    def __init__(
        self,
        encoder: nn.Module,
        *,
        mean: Sequence[float] | None = None,
        std: Sequence[float] | None = None,
    ) -> None:
        super().__init__()
        if (mean is None) != (std is None):
            raise ValueError("give both mean and std, or neither")
        if mean is not None and std is not None and (len(mean) != len(std) or min(std) <= 0):
            raise ValueError(f"need one positive std per mean, got mean {mean}, std {std}")
        self.encoder = encoder
        self.normalized = mean is not None
        self.register_buffer("mean", torch.tensor(list(mean or [0.0])).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(list(std or [1.0])).view(1, -1, 1, 1))

    def forward(self, images: Tensor) -> Tensor:
        x = images.float() / 255.0  # (B, C, H, W) in [0, 1]
        if self.normalized:
            x = (x - self.mean) / self.std
        out: Tensor = self.encoder(x)
        return out


class TextEmbedding(nn.Module):
    """Backbone -> mean pooling over real tokens -> optional L2 normalisation.

    The same function as `TextEncoder.forward` (`contrastkit.encoders.text`), without the
    cut of padding columns that no row uses: the masked mean ignores padding either way,
    and a fixed graph then serves any batch and sequence length.

    Args:
        text_encoder: A `TextEncoder` (has `backbone` and `normalize`).

    Shape:
        input_ids, attention_mask (B, L) int64 -> output (B, D).
    """

    def __init__(self, text_encoder: nn.Module) -> None:
        super().__init__()
        self.backbone: nn.Module = text_encoder.backbone  # type: ignore[assignment]
        self.normalize = bool(text_encoder.normalize)

    def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
        hidden = self.backbone(input_ids=input_ids, attention_mask=attention_mask)
        pooled = mean_pool(hidden.last_hidden_state, attention_mask)  # (B, D)
        return F.normalize(pooled, dim=1) if self.normalize else pooled


class _SharedSpaceTower(nn.Module):
    """One tower of a two-tower model (`model`, kept whole) into the shared space."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model: Any = model


class SharedSpaceInputs(_SharedSpaceTower):
    """The non-text tower of a two-tower model into the shared space (unit norm).

    Shape:
        input (B, ...) as `TwoTower.embed` takes it (uint8 images are scaled by 1/255
        inside; float spectrograms pass through) -> output (B, E).
    """

    def forward(self, x: Tensor) -> Tensor:
        out: Tensor = self.model.embed(x)
        return out


class SharedSpaceTexts(_SharedSpaceTower):
    """The text tower of a two-tower model into the shared space (unit norm).

    Shape:
        input (B, L) int64 token ids (`CharTokenizer.encode`) -> output (B, E).
    """

    def forward(self, ids: Tensor) -> Tensor:
        out: Tensor = self.model.embed_tokens(ids)
        return out


class TableRows(nn.Module):
    """A table encoder on (numeric, codes) whose ONNX model keeps both inputs.

    A table without categorical (or numeric) columns gives a zero-width input that the
    encoder never reads, and the tracer drops unread inputs; a consumer would then have
    to know which of the two `preprocess.json` names the model takes. Adding zero times
    the input's row sum keeps both inputs in the graph at no cost to the values.

    Shape:
        numeric (B, Dn) float32, codes (B, Dc) int64 -> output (B, D).
    """

    def __init__(self, encoder: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder

    def forward(self, numeric: Tensor, codes: Tensor) -> Tensor:
        out: Tensor = self.encoder(numeric, codes)
        keep = numeric.sum(dim=1, keepdim=True) + codes.sum(dim=1, keepdim=True).float()
        return out + 0.0 * keep
