"""Text: WordNet definitions, your lines or pairs, on the bundled MiniLM."""

from contrastkit.modalities.text.modality import TextModality

__all__ = ["TextModality"]
