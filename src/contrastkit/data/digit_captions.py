"""The bundled image-text demo: the digits, each with a caption made from its label."""

from __future__ import annotations

import numpy as np

from contrastkit.data.class_captions import captions_for, class_prompts
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


def load_digit_captions(*, test_fraction: float, split_seed: int) -> PairData:
    """The digits split of `load_digits` (same images, same split) with generated captions."""
    split = load_digits(test_fraction=test_fraction, seed=split_seed)
    rng = np.random.default_rng(split_seed)
    prompts = class_prompts(NUMBER_WORDS, TEMPLATES)
    return PairData(
        name="digits_captions",
        modality="image",
        train=PairSplit(
            x=split.x_train,
            texts=captions_for(split.y_train.numpy(), NUMBER_WORDS, TEMPLATES, rng),
            ids=split.y_train,
            prompts=prompts,
        ),
        tests={
            "test": PairSplit(
                x=split.x_test,
                texts=captions_for(split.y_test.numpy(), NUMBER_WORDS, TEMPLATES, rng),
                ids=split.y_test,
                prompts=prompts,
            )
        },
    )
