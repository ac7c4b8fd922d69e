"""Views of text for the training loop's `augment` slot.

SimCSE (Gao et al. 2021, arXiv:2104.08821) makes its two views by running the same token
ids through the encoder twice with independent dropout masks, so the ids pass unchanged.
"""

from __future__ import annotations

import torch
from torch import Tensor


def dropout_views(token_ids: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """The token ids themselves: the encoder's dropout makes the views. Shape: (B, L)."""
    return token_ids
