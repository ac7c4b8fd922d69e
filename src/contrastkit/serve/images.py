"""Decode an uploaded image (bytes from a request, never a path) into the model's input.

Order of checks, cheapest first, so that no hostile upload costs memory:

1. size in bytes (413 above the limit, 422 when empty);
2. Pillow reads the header only: the format must be PNG, JPEG, BMP, GIF or WebP (422);
3. width x height against `Limits.max_pixels` (413) before any pixel is decoded; Pillow's
   own decompression-bomb check is turned into an error too;
4. the pixels are decoded (a truncated or corrupt file is a 422) and converted as
   `contrastkit.data.decode` does: grey stays one channel, colour becomes RGB without
   alpha; then matched to the encoder's channels and resized when asked.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from contrastkit.serve.limits import PAYLOAD_TOO_LARGE, UNPROCESSABLE, Limits, RequestError

FORMATS = ("PNG", "JPEG", "BMP", "GIF", "WEBP")
GREY_MODES = ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L")


def _pixels(img: Image.Image) -> np.ndarray:
    """uint8 (H, W, 1) for grey, (H, W, 3) for colour (alpha dropped)."""
    if img.mode in ("I", "I;16", "I;16B", "I;16L"):
        values = np.clip(np.asarray(img).astype(np.int64), 0, 65535)
        return ((values * 255 + 32767) // 65535).astype(np.uint8)[..., None]
    if img.mode in GREY_MODES:
        return np.asarray(img.convert("L"))[..., None]
    return np.asarray(img.convert("RGB"))


def _match_channels(x: Tensor, channels: int) -> Tensor:
    """(C, H, W) uint8 -> (channels, H, W): grey repeated, or RGB to luma (ITU-R 601)."""
    if x.shape[0] == channels:
        return x
    if channels == 3:
        return x.expand(3, -1, -1).contiguous()
    weights = torch.tensor([0.299, 0.587, 0.114]).view(3, 1, 1)
    return (x.float() * weights).sum(0, keepdim=True).round().clamp(0, 255).to(torch.uint8)


def decode_upload(
    data: bytes,
    *,
    limits: Limits,
    channels: int | None = None,
    size: tuple[int, int] | None = None,
) -> Tensor:
    """The image in an upload as the encoder's input.

    Args:
        data: The uploaded file's bytes.
        limits: Byte and pixel limits.
        channels: 1 or 3 to convert to (None keeps the image's own: 1 grey, 3 colour).
        size: (height, width) to resize to (bilinear, antialiased), or None to keep it.

    Returns:
        Shape: (C, H, W), uint8.

    Raises:
        RequestError: 413 too many bytes or pixels; 422 empty, not an image of an allowed
            format, or corrupt / truncated.
    """
    if channels not in (None, 1, 3):
        raise ValueError(f"channels must be 1, 3 or None, got {channels}")
    if size is not None and min(size) < 1:
        raise ValueError(f"size must be positive, got {size}")
    limits.check_upload(len(data))
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(io.BytesIO(data), formats=list(FORMATS))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            # Pillow's own guard (MAX_IMAGE_PIXELS), above ours unless the limit is raised
            raise RequestError(
                PAYLOAD_TOO_LARGE, "the image is larger than the decoder allows"
            ) from None
        except (OSError, ValueError, SyntaxError):
            raise RequestError(
                UNPROCESSABLE, f"not an image (expected {', '.join(FORMATS)})"
            ) from None
        with img:
            limits.check_pixels(*img.size)
            try:
                img.load()
                pixels = _pixels(img)
            except (OSError, ValueError, SyntaxError, Image.DecompressionBombWarning) as err:
                reason = str(err) or type(err).__name__
                raise RequestError(
                    UNPROCESSABLE, f"cannot decode the image ({reason[:80]})"
                ) from None
    x = torch.from_numpy(np.array(pixels, copy=True)).permute(2, 0, 1).contiguous()  # (C,H,W)
    if channels is not None:
        x = _match_channels(x, channels)
    if size is not None and tuple(x.shape[1:]) != tuple(size):
        resized = torch.nn.functional.interpolate(
            x.unsqueeze(0).float(), size=size, mode="bilinear", antialias=True, align_corners=False
        )
        x = resized[0].round().clamp(0, 255).to(torch.uint8)
    return x
