"""Image search over a run: embed a data set into an index saved in the run directory,
then find the images most similar to a query image (cosine similarity of encoder outputs).

Files in the run directory: `image_index.faiss` and `image_index.json` (see `flat.py`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from contrastkit.config import Config
from contrastkit.data.decode import BadImage, decode_image
from contrastkit.data.imageset import ImageSet
from contrastkit.data.load import load_image_set
from contrastkit.errors import UserError
from contrastkit.eval.embed import embed_images
from contrastkit.index.flat import FlatIndex
from contrastkit.modalities.options import DataConfig

INDEX_STEM = "image_index"


def data_config_for(cfg: Config, data: str) -> DataConfig:
    """The run's own data for 'train' (and 'digits' on a digits run), else `data` as a path
    read with the run's data options (skip_bad, image_size, cache)."""
    if data == "train" or (data == "digits" and cfg.data.source == "digits"):
        return cfg.data
    return cfg.data.model_copy(update={"source": "auto", "path": data})


def encoder_channels(encoder: nn.Module) -> int:
    """Input channels of an image encoder (its first convolution)."""
    for module in encoder.modules():
        if isinstance(module, nn.Conv2d):
            return int(module.in_channels)
    channels = getattr(encoder, "in_channels", None)
    if not isinstance(channels, int):
        raise UserError("cannot tell how many image channels this run's encoder takes")
    return channels


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


def build_image_index(run: Path, encoder: nn.Module, data: ImageSet) -> FlatIndex:
    """Embed `data`, save it as the run's image index, and return the index."""
    z = embed_image_set(encoder, data)
    _, _, h, w = data.images.shape
    index = FlatIndex.from_embeddings(z, data.paths, {"data": data.name, "image_hw": [h, w]})
    index.save(run / INDEX_STEM)
    return index


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
    image = torch.from_numpy(np.ascontiguousarray(pixels.transpose(2, 0, 1)))[None]
    image = match_channels(image, channels)
    if tuple(image.shape[2:]) != size:
        image = F.interpolate(image.float(), size=size, mode="bilinear", antialias=True)
        image = image.round().clamp(0, 255).to(torch.uint8)
    return image


def search_images(
    run: Path, cfg: Config, encoder: nn.Module, query: Path, k: int
) -> tuple[list[tuple[str, float]], FlatIndex]:
    """The `k` images of the run's index most similar to `query`, best first.

    The index is the one `contrastkit embed` saved; without one, the run's training data
    is embedded and saved as the index first.
    """
    if k < 1:
        raise UserError(f"--k must be >= 1, got {k}")
    stem = run / INDEX_STEM
    if stem.with_suffix(".faiss").is_file():
        index = FlatIndex.load(stem)
    else:
        index = build_image_index(run, encoder, load_image_set(cfg.data))
    h, w = index.info.get("image_hw", [0, 0])
    image = read_query(query, channels=encoder_channels(encoder), size=(int(h), int(w)))
    z = embed_images(encoder, image)
    return index.search(z, k)[0], index
