"""Run an encoder over images in batches, without gradients."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from contrastkit.augment.image import to_float


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
