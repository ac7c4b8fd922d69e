"""The text methods' inputs: each side's token ids (one dropout-free view, the augment's)
with their attention mask, embedded together with rows grouped by length."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from contrastkit.encoders.text import encode_by_length
from contrastkit.methods.base import Inputs


def text_input(
    ids: Tensor, mask: Tensor, augment: Any, generator: torch.Generator | None
) -> dict[str, Tensor]:
    """One side of a batch of texts as a model input: the augmented ids and the mask, each
    Shape: (B, L).

    Raises:
        TypeError: The augment returned a view set, not one view.
    """
    view = augment(ids, generator)
    if not isinstance(view, Tensor):
        raise TypeError("text methods take one view per text; the augment returned a view set")
    return {"ids": view, "mask": mask}


def embed_texts(encoder: nn.Module, inputs: Sequence[Inputs]) -> list[Tensor]:
    """Every input through `encoder` at once, rows grouped by length (`encode_by_length`):
    each row's embedding is the one the input alone gives. Shape: (B_i, D) each."""
    parts = []
    for x in inputs:
        if not isinstance(x, Mapping):
            raise TypeError("text inputs are token ids and their mask")
        parts.append((x["ids"], x["mask"]))
    return encode_by_length(encoder, parts)
