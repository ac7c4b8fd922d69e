"""Fashion-MNIST as image-text pairs: each image captioned from its class name and a template
("a photo of a sneaker"), the official 60,000 training images to train on and the 10,000 test
images held out (retrieval, zero-shot, and the test videos of `benchmarks/video.py`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from contrastkit.data.class_captions import captioned
from contrastkit.data.fashion_mnist import FASHION_MNIST_ROOT, read_fashion_mnist
from contrastkit.data.pairs import PairData

FASHION_WORDS = (
    "t-shirt",
    "pair of trousers",
    "pullover",
    "dress",
    "coat",
    "sandal",
    "shirt",
    "sneaker",
    "bag",
    "ankle boot",
)
"""What a caption calls each class, in the label order of `FASHION_MNIST_CLASSES`."""
TEMPLATES = (
    "a photo of a {}",
    "a {}",
    "a picture of a {}",
    "a black and white photo of a {}",
    "a product photo of a {}",
    "a low resolution photo of a {}",
    "a close-up photo of a {}",
    "an image of a {}",
)


def load_fashion_captions(*, root: Path = FASHION_MNIST_ROOT, seed: int = 0) -> PairData:
    """The official train and test sets with captions drawn with `seed`."""
    train, test = read_fashion_mnist(root)
    rng = np.random.default_rng(seed)
    return PairData(
        name="fashion_captions",
        modality="image",
        train=captioned(train, FASHION_WORDS, TEMPLATES, rng),
        tests={"test": captioned(test, FASHION_WORDS, TEMPLATES, rng)},
    )
