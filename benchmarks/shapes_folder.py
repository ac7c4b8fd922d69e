"""A generated image folder for the first-hour check: circles, squares and triangles in
random colours on random grounds, 64x64 PNG, one subfolder per shape.

    python benchmarks/shapes_folder.py OUT [--per-class 100]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

SHAPES = ("circle", "square", "triangle")


def draw(shape: str, rng: np.random.Generator, size: int = 64) -> Image.Image:
    ground = tuple(int(v) for v in rng.integers(0, 120, 3))
    colour = tuple(int(v) for v in rng.integers(100, 256, 3))
    img = Image.new("RGB", (size, size), ground)
    pen = ImageDraw.Draw(img)
    r = int(rng.integers(size // 8, size // 3))
    cx, cy = (int(v) for v in rng.integers(r, size - r, 2))
    if shape == "circle":
        pen.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
    elif shape == "square":
        pen.rectangle((cx - r, cy - r, cx + r, cy + r), fill=colour)
    else:
        pen.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=colour)
    return img


def make_shapes(root: Path, per_class: int = 100, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    for shape in SHAPES:
        (root / shape).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            draw(shape, rng).save(root / shape / f"{i:04d}.png")
    return root


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--per-class", type=int, default=100)
    args = parser.parse_args()
    print(make_shapes(args.out, args.per_class))
