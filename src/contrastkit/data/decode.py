"""Decode one image file with Pillow to a uint8 (H, W, C) array, or say why it cannot."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")


class BadImage(Exception):
    """A file that is not a readable image; the message says why (without the path)."""


@contextmanager
def opened_image(path: Path) -> Iterator[Image.Image]:
    """`Image.open(path)` (the header parsed, nothing decoded yet) of a file with an image
    suffix.

    Raises:
        BadImage: another suffix, or Pillow cannot read the file (also when what the caller
            does with the image fails so).
    """
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise BadImage(
            f"not an image file (suffix {path.suffix or 'none'!r}; expected "
            f"{', '.join(IMAGE_SUFFIXES)})"
        )
    try:
        with Image.open(path) as img:
            yield img
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as err:
        reason = str(err) or type(err).__name__
        raise BadImage(f"cannot decode as an image ({reason})") from None


def _sixteen_bit_to_uint8(array: np.ndarray) -> np.ndarray:
    values = np.clip(array.astype(np.int64), 0, 65535)
    return ((values * 255 + 32767) // 65535).astype(np.uint8)


def decode_image(path: Path) -> tuple[np.ndarray, str]:
    """Pixels of an image file and the mode it had.

    Grey ('1', 'L', 'I;16', 'I') become one channel, 16-bit scaled to 0..255; colour
    ('RGB', 'RGBA', 'LA', 'P', 'CMYK', 'YCbCr') becomes RGB with any alpha dropped.

    Returns:
        (pixels, mode): pixels uint8 (H, W, 1) or (H, W, 3).

    Raises:
        BadImage: not an image, truncated or corrupt, or an unsupported mode.
    """
    with opened_image(path) as img:
        img.load()
        mode = img.mode
        if mode in ("I;16", "I;16B", "I;16L", "I"):
            pixels = _sixteen_bit_to_uint8(np.asarray(img))[..., None]
        elif mode in ("1", "L"):
            pixels = np.asarray(img.convert("L"))[..., None]
        elif mode in ("RGB", "RGBA", "LA", "P", "PA", "CMYK", "YCbCr"):
            if mode in ("LA",):
                pixels = np.asarray(img.convert("L"))[..., None]
            else:
                pixels = np.asarray(img.convert("RGB"))
        else:
            raise BadImage(f"unsupported image mode {mode!r} (expected grey, RGB or RGBA)")
    if pixels.ndim != 3 or min(pixels.shape[:2]) < 1:
        raise BadImage(f"image has an empty size {pixels.shape[:2]}")
    return np.ascontiguousarray(pixels), mode
