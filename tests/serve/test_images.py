"""Uploads: good images decode to the pixels Pillow saved; hostile or broken ones give a
413 / 422 RequestError before costing memory."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from contrastkit.serve.images import decode_upload
from contrastkit.serve.limits import Limits, RequestError

LIMITS = Limits()


def _encode(array: np.ndarray, fmt: str = "PNG", mode: str | None = None) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array, mode=mode).save(buffer, format=fmt)
    return buffer.getvalue()


def _rgb(h: int = 6, w: int = 5) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height (the IHDR patched, CRC fixed)."""
    data = bytearray(_encode(np.zeros((1, 1), dtype=np.uint8)))
    start = 8 + 4 + 4  # signature, chunk length, b"IHDR"
    data[start : start + 8] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[12 : start + 13]))
    data[start + 13 : start + 17] = struct.pack(">I", crc)
    return bytes(data)


def test_png_rgb_exact_pixels() -> None:
    array = _rgb()
    x = decode_upload(_encode(array), limits=LIMITS)
    assert x.dtype == torch.uint8 and x.shape == (3, 6, 5)
    np.testing.assert_array_equal(x.permute(1, 2, 0).numpy(), array)


def test_grey_rgba_and_channel_matching() -> None:
    grey = np.arange(30, dtype=np.uint8).reshape(5, 6)
    x = decode_upload(_encode(grey), limits=LIMITS)
    assert x.shape == (1, 5, 6)
    three = decode_upload(_encode(grey), limits=LIMITS, channels=3)
    assert three.shape == (3, 5, 6) and bool((three == x).all())
    rgba = np.dstack([_rgb(), np.full((6, 5), 7, np.uint8)])
    y = decode_upload(_encode(rgba), limits=LIMITS)
    np.testing.assert_array_equal(y.permute(1, 2, 0).numpy(), rgba[..., :3])  # alpha dropped
    luma = decode_upload(
        _encode(np.full((2, 2, 3), (100, 200, 50), np.uint8)), limits=LIMITS, channels=1
    )
    assert luma.shape == (1, 2, 2)
    assert int(luma[0, 0, 0]) == round(0.299 * 100 + 0.587 * 200 + 0.114 * 50)


def test_jpeg_and_resize() -> None:
    x = decode_upload(_encode(_rgb(40, 30), fmt="JPEG"), limits=LIMITS, size=(8, 8))
    assert x.shape == (3, 8, 8) and x.dtype == torch.uint8
    flat = np.full((20, 20, 3), 90, np.uint8)  # a constant image resizes to itself
    assert bool((decode_upload(_encode(flat), limits=LIMITS, size=(7, 9)) == 90).all())


@pytest.mark.parametrize(
    ("data", "limits", "status", "match"),
    [
        (b"", LIMITS, 422, "empty"),
        (b"x" * 101, Limits(max_upload_bytes=100), 413, "101 bytes; the limit is 100"),
        (b"hello, I am text", LIMITS, 422, "not an image"),
        (b"%PDF-1.4 not really", LIMITS, 422, "not an image"),
        (
            bytes(np.random.default_rng(1).integers(0, 256, 4000, dtype=np.uint8)),
            LIMITS,
            422,
            "not an image",
        ),
        (_encode(_rgb(64, 64))[:200], LIMITS, 422, "cannot decode"),  # truncated
        (_encode(_rgb(20, 20)), Limits(max_pixels=399), 413, "20x20 = 400 pixels"),
        (_png_claiming(100_000, 100_000), LIMITS, 413, "pixels|larger than the decoder"),
        (_png_claiming(10_000, 10_000), LIMITS, 413, "larger than the decoder"),  # Pillow warns
        (_png_claiming(10_000, 10_000), Limits(max_pixels=10**9), 413, "larger than the decoder"),
        (_png_claiming(6000, 5000), LIMITS, 413, "6000x5000"),
        (_encode(_rgb(), fmt="TIFF"), LIMITS, 422, "not an image"),  # not an allowed format
    ],
    ids=[
        "empty",
        "too-many-bytes",
        "text",
        "pdf",
        "noise",
        "truncated",
        "pixels",
        "bomb",
        "pillow-warns",
        "pillow-warns-our-limit-raised",
        "big-header",
        "tiff",
    ],
)
def test_bad_uploads(data: bytes, limits: Limits, status: int, match: str) -> None:
    with pytest.raises(RequestError, match=match) as info:
        decode_upload(data, limits=limits)
    assert info.value.status == status
    assert info.value.to_json() == {"error": info.value.message, "status": status}


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="channels"):
        decode_upload(b"x", limits=LIMITS, channels=2)
    with pytest.raises(ValueError, match="size"):
        decode_upload(b"x", limits=LIMITS, size=(0, 4))
