"""Images as queries and index entries: match the encoder's channels, read a query file
at the size the index was built at, embed an image set."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from contrastkit.data.decode import BadImage, decode_image
from contrastkit.data.imageset import ImageSet
from contrastkit.errors import UserError
from contrastkit.eval.embed import embed_images


def encoder_channels(encoder: nn.Module) -> int:
    """Input channels of an image encoder: its `in_channels` when it says (a pretrained
    encoder of grey images repeats them to its first convolution's 3), else its first
    convolution's."""
    channels = getattr(encoder, "in_channels", None)
    if isinstance(channels, int):
        return channels
    for module in encoder.modules():
        if isinstance(module, nn.Conv2d):
            return int(module.in_channels)
    raise UserError("cannot tell how many image channels this run's encoder takes")


def match_channels(images: Tensor, channels: int) -> Tensor:
    """uint8 (N, C, H, W) -> (N, channels, H, W): grey repeated, or RGB to luma."""
    c = images.shape[1]
    if c == channels:
        return images
    if c == 1 and channels == 3:
        return images.expand(-1, 3, -1, -1).contiguous()
    if c == 3 and channels == 1:
        weights = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
        return (images.float() * weights).sum(1, keepdim=True).round().to(torch.uint8)
    raise UserError(f"images have {c} channels but the encoder takes {channels}")


def embed_image_set(encoder: nn.Module, data: ImageSet) -> Tensor:
    """Encoder outputs of every image. Returns: Shape: (N, D), float32."""
    return embed_images(encoder, match_channels(data.images, encoder_channels(encoder)))


def read_query(path: Path, *, channels: int, size: tuple[int, int]) -> Tensor:
    """A query image file as uint8 (1, channels, *size), resized bilinearly if needed.

    Raises:
        UserError: the file is missing or not an image.
    """
    if not path.is_file():
        raise UserError(f"--query {path}: no such file")
    try:
        pixels, _ = decode_image(path)
    except BadImage as err:
        raise UserError(f"--query {path}: {err}") from None
    image = torch.from_numpy(np.array(pixels.transpose(2, 0, 1)))[None]  # a writable copy
    image = match_channels(image, channels)
    if tuple(image.shape[2:]) != size:
        image = F.interpolate(image.float(), size=size, mode="bilinear", antialias=True)
        image = image.round().clamp(0, 255).to(torch.uint8)
    return image
