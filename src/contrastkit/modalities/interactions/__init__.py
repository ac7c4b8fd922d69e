"""Interactions: a user-item CSV or generated data, for the two-tower recommender."""

from contrastkit.modalities.interactions.modality import InteractionModality

__all__ = ["InteractionModality"]
