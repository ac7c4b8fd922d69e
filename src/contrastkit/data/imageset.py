"""A set of images read from disk, before it is split: pixels, labels, where each came from."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from contrastkit.errors import UserError


@dataclass(frozen=True)
class ImageSet:
    """Images as one uint8 tensor, with labels (or none) and their sources.

    Attributes:
        images: Shape: (N, C, H, W), uint8, C in {1, 3}.
        labels: Shape: (N,), int64; -1 everywhere when the data has no labels.
        class_names: Name of each label index; empty when unlabeled.
        paths: Where each image came from (a file path, or `file[index]` for arrays).
        name: What the data is called in `metrics.json` and messages.
        notes: What the reader changed or skipped (resized, converted, bad files).
    """

    images: torch.Tensor
    labels: torch.Tensor
    class_names: list[str]
    paths: list[str]
    name: str
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        n = self.images.shape[0]
        if self.images.ndim != 4 or self.images.dtype != torch.uint8:
            raise ValueError(
                f"images must be uint8 (N, C, H, W), got {self.images.dtype} "
                f"{tuple(self.images.shape)}"
            )
        if self.labels.shape != (n,) or len(self.paths) != n:
            raise ValueError(
                f"{n} images need {n} labels and paths, got {tuple(self.labels.shape)} "
                f"and {len(self.paths)}"
            )

    @property
    def labelled(self) -> bool:
        return bool(self.class_names) and bool((self.labels >= 0).all())

    def summary(self) -> str:
        """One line: count, size, channels, classes."""
        n, c, h, w = self.images.shape
        return describe_images(n, (c, h, w), self.class_names if self.labelled else [])


MIN_SIDE = 2
"""The smallest image side (pixels) the encoders and augmentations take."""


def check_size(where: str, size: tuple[int, int]) -> None:
    """Refuse images (H, W) smaller than `MIN_SIDE` on a side.

    Raises:
        UserError: naming `where`, the size and the minimum.
    """
    if min(size) < MIN_SIDE:
        raise UserError(
            f"{where}: images of {size[0]}x{size[1]} pixels; need at least "
            f"{MIN_SIDE}x{MIN_SIDE} (data.image_size resizes them)"
        )


def describe_images(n: int, shape: tuple[int, int, int], class_names: list[str]) -> str:
    """One line: '24 images, 16x16 RGB, 3 classes (a, b, c)' (classes: [] when unlabeled)."""
    c, h, w = shape
    colour = {1: "grey", 3: "RGB"}.get(c, f"{c}-channel")
    if class_names:
        shown = ", ".join(class_names[:8]) + (", ..." if len(class_names) > 8 else "")
        classes = f"{len(class_names)} classes ({shown})"
    else:
        classes = "no labels"
    return f"{n} images, {h}x{w} {colour}, {classes}"


def unlabeled(n: int) -> torch.Tensor:
    """Labels of `n` unlabeled images: -1 each, shape (n,)."""
    return torch.full((n,), -1, dtype=torch.int64)


def to_nchw_uint8(array: np.ndarray, where: str) -> np.ndarray:
    """An image array in a common layout -> uint8 (N, C, H, W) with C in {1, 3}.

    Accepts (N, H, W), (N, C, H, W) and (N, H, W, C) with C in {1, 3, 4} (alpha is
    dropped; an axis 1 of size 1 or 3 is read as channels first, else a last axis of size
    1, 3 or 4 as channels last); uint8 as is, uint16 scaled by 1/257, other integers in
    0..255 as is, floats in [0, 1] scaled by 255.

    Raises:
        UserError: naming `where`, for any other shape or value range.
    """
    x = np.asarray(array)
    if x.ndim == 3:
        x = x[:, None]
    if x.ndim != 4:
        raise UserError(
            f"{where}: expected images (N, H, W), (N, C, H, W) or (N, H, W, C), got shape {x.shape}"
        )
    if x.shape[1] not in (1, 3) and x.shape[-1] in (1, 3, 4):
        x = x.transpose(0, 3, 1, 2)  # channels last (N, H, W, C) -> (N, C, H, W)
    if x.shape[1] not in (1, 3, 4):
        raise UserError(f"{where}: expected 1, 3 or 4 channels, got shape {array.shape}")
    x = x[:, :3]
    check_size(where, (x.shape[2], x.shape[3]))
    if x.dtype == np.uint8:
        return np.ascontiguousarray(x)
    if x.dtype == np.uint16:
        return np.ascontiguousarray(((x.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8))
    if np.issubdtype(x.dtype, np.floating):
        if x.size and np.isnan(x).all():
            raise UserError(f"{where}: every value is NaN; expected floats in [0, 1]")
        if x.size and (np.nanmin(x) < 0 or np.nanmax(x) > 1 or np.isnan(x).any()):
            raise UserError(
                f"{where}: float images must lie in [0, 1], got values in "
                f"[{np.nanmin(x):.3g}, {np.nanmax(x):.3g}]"
            )
        return np.ascontiguousarray(np.round(x * 255).astype(np.uint8))
    if np.issubdtype(x.dtype, np.integer) and x.size and x.min() >= 0 and x.max() <= 255:
        return np.ascontiguousarray(x.astype(np.uint8))
    raise UserError(
        f"{where}: expected uint8, uint16, integers in 0..255 or floats in [0, 1], "
        f"got dtype {x.dtype}"
    )
