"""A small convolutional encoder for small images (e.g. 8x8 digits, 32x32 photos)."""

from __future__ import annotations

from torch import Tensor, nn


def _conv_block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class SmallCNN(nn.Module):
    """Four 3x3 conv blocks (widths w, 2w, 2w, 4w) with one 2x2 max-pool, then global
    average pooling and a linear layer to `feature_dim`.

    Args:
        in_channels: 1 for grey images, 3 for colour.
        width: Channels of the first block.
        feature_dim: Size of the representation `forward` returns.

    Shape:
        input (B, C, H, W) float -> output (B, feature_dim).
    """

    def __init__(self, *, in_channels: int = 1, width: int = 32, feature_dim: int = 128) -> None:
        super().__init__()
        if in_channels < 1 or width < 1 or feature_dim < 1:
            raise ValueError(
                f"in_channels, width and feature_dim must be >= 1, got "
                f"{in_channels}, {width}, {feature_dim}"
            )
        self.in_channels = in_channels
        self.feature_dim = feature_dim
        self.features = nn.Sequential(
            _conv_block(in_channels, width),
            _conv_block(width, 2 * width),
            nn.MaxPool2d(2),
            _conv_block(2 * width, 2 * width),
            _conv_block(2 * width, 4 * width),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(1),
        )
        self.fc = nn.Linear(4 * width, feature_dim)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"expected (B, {self.in_channels}, H, W) images, got shape {tuple(x.shape)}"
            )
        out: Tensor = self.fc(self.features(x))
        return out
