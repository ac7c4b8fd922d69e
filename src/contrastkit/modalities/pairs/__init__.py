"""Paired data for two towers: image-text (digit captions, your caption CSV) and
audio-text (words spoken by espeak-ng)."""

from contrastkit.modalities.pairs.modality import PairModality

__all__ = ["PairModality"]
