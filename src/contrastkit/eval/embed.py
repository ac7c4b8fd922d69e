"""Run an encoder over images in batches, without gradients."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset

from contrastkit.augment.image import to_float
from contrastkit.data.folder_items import stack_images


@torch.no_grad()
def embed_images(
    encoder: nn.Module, images: Tensor, *, batch_size: int = 512, device: torch.device | None = None
) -> Tensor:
    """Encoder outputs for `images` in eval mode (BatchNorm uses running statistics).

    Args:
        encoder: Maps (B, C, H, W) float images to (B, D).
        images: Shape: (N, C, H, W), uint8 or float in [0, 1].

    Returns:
        Shape: (N, D), float32 on the CPU, detached.
    """
    device = device or next(encoder.parameters()).device
    was_training = encoder.training
    encoder.eval()
    try:
        chunks = [
            encoder(to_float(images[i : i + batch_size].to(device))).float().cpu()
            for i in range(0, len(images), batch_size)
        ]
    finally:
        encoder.train(was_training)
    return torch.cat(chunks).flatten(1)


@torch.no_grad()
def embed_items(
    encoder: nn.Module,
    items: Dataset[tuple[Tensor, Tensor]],
    *,
    workers: int,
    batch_size: int = 256,
    transform: Callable[[Tensor], Tensor] | None = None,
) -> Tensor:
    """Encoder outputs for a dataset of `(uint8 image (C, H, W), label)` items, decoded by
    `workers` loader processes, in order: memory holds one batch of images at a time.
    `transform` maps each uint8 batch before the encoder (e.g. to its channels).

    Returns:
        Shape: (N, D), float32 on the CPU.
    """
    loader: DataLoader[tuple[Tensor, Tensor]] = DataLoader(
        items,
        batch_size=batch_size,
        num_workers=workers,
        collate_fn=stack_images,
    )
    return torch.cat(
        [
            embed_images(encoder, transform(images) if transform else images, batch_size=batch_size)
            for images in loader
        ]
    )
