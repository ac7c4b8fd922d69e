"""Captions made from class names and templates ("a photo of a {}"), for image-text training on
labelled images: each image gets a randomly chosen template filled with its class's words,
and every template filled with a class's words are that class's zero-shot prompts."""

from __future__ import annotations

import numpy as np

from contrastkit.data.imageset import ImageSet
from contrastkit.data.pairs import PairSplit


def class_prompts(words: tuple[str, ...], templates: tuple[str, ...]) -> dict[int, list[str]]:
    """Every template filled with each class's words: class index -> its prompts."""
    return {c: [t.format(word) for t in templates] for c, word in enumerate(words)}


def captions_for(
    labels: np.ndarray, words: tuple[str, ...], templates: tuple[str, ...], rng: np.random.Generator
) -> list[str]:
    """A caption per label from a randomly chosen template ("a photo of a sneaker")."""
    choice = rng.integers(len(templates), size=len(labels))
    return [templates[t].format(words[y]) for t, y in zip(choice, labels, strict=True)]


def captioned(
    images: ImageSet, words: tuple[str, ...], templates: tuple[str, ...], rng: np.random.Generator
) -> PairSplit:
    """Labelled images as pairs with generated captions; the group id is the class."""
    return PairSplit(
        x=images.images,
        texts=captions_for(images.labels.numpy(), words, templates, rng),
        ids=images.labels,
        prompts=class_prompts(words, templates),
    )
