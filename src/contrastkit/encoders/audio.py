"""A small CNN over log-mel spectrograms (the audio tower)."""

from __future__ import annotations

import torch
from torch import Tensor, nn


def _block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
    )


class AudioCNN(nn.Module):
    """A strided 3x3 stem (width w, then a 2x2 max-pool: 1/4 of the bands and frames), two
    conv blocks (2w, 4w) each halving both again, a 3x3 block at 4w, then mean over the
    mel bands, mean + max over time, and a linear layer. Small enough for a CPU.

    Args:
        width: Channels of the first block.
        feature_dim: Size of the representation.

    Shape:
        input (B, 1, n_mels, frames) float log-mel (n_mels, frames >= 16) -> (B, feature_dim).
    """

    def __init__(self, *, width: int = 16, feature_dim: int = 128) -> None:
        super().__init__()
        if width < 1 or feature_dim < 1:
            raise ValueError(f"width and feature_dim must be >= 1, got {width}, {feature_dim}")
        self.feature_dim = feature_dim
        self.features = nn.Sequential(
            nn.Conv2d(1, width, kernel_size=3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            _block(width, 2 * width),
            _block(2 * width, 4 * width),
            nn.Conv2d(4 * width, 4 * width, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(4 * width),
            nn.ReLU(inplace=True),
        )
        self.fc = nn.Linear(8 * width, feature_dim)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[1] != 1 or min(x.shape[2], x.shape[3]) < 16:
            raise ValueError(f"expected log-mel (B, 1, M>=16, T>=16), got {tuple(x.shape)}")
        h = self.features(x.float()).mean(dim=2)  # (B, 4w, frames / 16)
        pooled = torch.cat([h.mean(dim=2), h.amax(dim=2)], dim=1)  # (B, 8w)
        out: Tensor = self.fc(pooled)
        return out
