"""The bundled image-text demo: the digits, each with a caption made from its label."""

from __future__ import annotations

import numpy as np

from contrastkit.data.digits import load_digits
from contrastkit.data.pairs import PairData, PairSplit

NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
TEMPLATES = (
    "a handwritten {}",
    "a photo of the digit {}",
    "the number {}",
    "a scan of a handwritten {}",
    "a small drawing of a {}",
    "digit {}",
)


def class_prompts(class_words: tuple[str, ...] = NUMBER_WORDS) -> dict[int, list[str]]:
    """Every template filled with each class's word: the zero-shot prompts of each class."""
    return {c: [t.format(word) for t in TEMPLATES] for c, word in enumerate(class_words)}


def captions_for(labels: np.ndarray, rng: np.random.Generator) -> list[str]:
    """A caption per label from a randomly chosen template ("a handwritten seven")."""
    choice = rng.integers(len(TEMPLATES), size=len(labels))
    return [TEMPLATES[t].format(NUMBER_WORDS[y]) for t, y in zip(choice, labels, strict=True)]


def load_digit_captions(*, test_fraction: float, split_seed: int) -> PairData:
    """The digits split of `load_digits` (same images, same split) with generated captions."""
    split = load_digits(test_fraction=test_fraction, seed=split_seed)
    rng = np.random.default_rng(split_seed)
    prompts = class_prompts()
    return PairData(
        name="digits_captions",
        modality="image",
        train=PairSplit(
            x=split.x_train,
            texts=captions_for(split.y_train.numpy(), rng),
            ids=split.y_train,
            prompts=prompts,
        ),
        tests={
            "test": PairSplit(
                x=split.x_test,
                texts=captions_for(split.y_test.numpy(), rng),
                ids=split.y_test,
                prompts=prompts,
            )
        },
    )
