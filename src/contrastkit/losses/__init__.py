"""Contrastive losses: pure functions over embeddings (see docs/losses.md)."""

from contrastkit.losses.nt_xent import nt_xent

__all__ = ["nt_xent"]
