"""Small generated image files for the data tests (numpy drawings saved with Pillow)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def shape_image(seed: int, size: int = 16) -> np.ndarray:
    """An RGB uint8 (size, size, 3) picture: a coloured square or disc on a dark ground."""
    rng = np.random.default_rng(seed)
    img = np.full((size, size, 3), rng.integers(0, 60), dtype=np.uint8)
    colour = rng.integers(80, 256, 3).astype(np.uint8)
    half = size // 4
    cy, cx = rng.integers(half, size - half, 2)
    yy, xx = np.mgrid[:size, :size]
    if seed % 2:
        mask = (abs(yy - cy) <= half) & (abs(xx - cx) <= half)
    else:
        mask = (yy - cy) ** 2 + (xx - cx) ** 2 <= half**2
    img[mask] = colour
    return img


def save(path: Path, pixels: np.ndarray) -> Path:
    """Write `pixels` ((H, W) grey, (H, W, 3) RGB, (H, W, 4) RGBA; uint8 or uint16)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    return path


def make_folder(root: Path, classes: list[str] | None, per_class: int = 4, size: int = 16) -> Path:
    """A labelled folder (one subfolder per class) or, with `classes=None`, a flat one."""
    if classes is None:
        for i in range(per_class):
            save(root / f"img{i:03d}.png", shape_image(i, size))
        return root
    for c, name in enumerate(classes):
        for i in range(per_class):
            save(root / name / f"{i:03d}.png", shape_image(100 * c + i, size))
    return root
