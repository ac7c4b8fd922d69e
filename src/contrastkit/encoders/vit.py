"""Vision Transformers in plain PyTorch (Dosovitskiy et al., arXiv:2010.11929): ViT-Tiny
(width 192, 12 layers, 3 heads) and ViT-Small (384, 12, 6), as in DeiT (arXiv:2012.12877).

An image is cut into P x P patches, each linearly embedded (a P-strided P x P conv); a
learned [CLS] token is prepended and learned position embeddings added; `depth` pre-norm
blocks follow:

    x = x + Attn(LN(x)),   Attn = softmax(Q K^T / sqrt(d_head)) V per head
    x = x + MLP(LN(x)),    MLP = Linear(D, 4D) -> GELU -> Linear(4D, D)

then a final LayerNorm. The output is the [CLS] token (`pool="cls"`) or the mean of the patch
tokens (`pool="mean"`), of size `width` (= `feature_dim`, known without a forward pass).
Images of another size than `image_size` (a multiple of the patch on each side) get the
position embeddings bicubically interpolated to their patch grid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from contrastkit.errors import UserError

Pool = Literal["cls", "mean"]


@dataclass(frozen=True)
class ViTArch:
    """One ViT's shape: token width, number of blocks, attention heads."""

    width: int
    depth: int
    heads: int

    @property
    def feature_dim(self) -> int:
        return self.width


VIT_ARCHS: dict[str, ViTArch] = {
    "vit_tiny": ViTArch(192, 12, 3),
    "vit_small": ViTArch(384, 12, 6),
}


def check_patch_fits(height: int, width: int, patch_size: int, what: str = "ViT") -> None:
    """Raise `UserError` when a `height` x `width` image cannot be cut into whole patches,
    naming the image sizes that work and the patch sizes that would fit this image."""
    if height % patch_size == 0 and width % patch_size == 0 and min(height, width) > 0:
        return
    side = math.gcd(height, width)
    fits = [p for p in range(1, side + 1) if side % p == 0]
    sizes = ", ".join(str(patch_size * k) for k in range(1, 5))
    raise UserError(
        f"{what} with patch_size {patch_size} cannot take {height}x{width} images: each side "
        f"must be a multiple of {patch_size} ({sizes}, ...); for {height}x{width} images use "
        f"model.patch_size in {fits} or resize the images"
    )


class Attention(nn.Module):
    """Multi-head self-attention through `F.scaled_dot_product_attention`.

    Shape:
        (B, N, D) -> (B, N, D).
    """

    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)

    def forward(self, x: Tensor) -> Tensor:
        b, n, d = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, d // self.heads)  # (B, N, 3, H, Dh)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # 3 x (B, H, N, Dh)
        out = F.scaled_dot_product_attention(q, k, v)  # (B, H, N, Dh)
        out = out.transpose(1, 2).reshape(b, n, d)  # (B, N, D)
        result: Tensor = self.proj(out)
        return result


class Block(nn.Module):
    """A pre-norm transformer block: x + Attn(LN(x)), then x + MLP(LN(x)).

    Shape:
        (B, N, D) -> (B, N, D).
    """

    def __init__(self, width: int, heads: int, mlp_ratio: float) -> None:
        super().__init__()
        hidden = int(width * mlp_ratio)
        self.norm1 = nn.LayerNorm(width, eps=1e-6)
        self.attn = Attention(width, heads)
        self.norm2 = nn.LayerNorm(width, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(width, hidden), nn.GELU(), nn.Linear(hidden, width))

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.attn(self.norm1(x))
        out: Tensor = x + self.mlp(self.norm2(x))
        return out


class ViT(nn.Module):
    """A Vision Transformer encoder (no classifier).

    Args:
        image_size: Side of the images the position embeddings are learned for (square).
        patch_size: Side P of the square patches; `image_size` must be a multiple of it.
        in_channels: 1 for grey images, 3 for colour.
        width: Token width D (192 for ViT-Tiny, 384 for ViT-Small).
        depth: Number of transformer blocks.
        heads: Attention heads (must divide `width`).
        mlp_ratio: Hidden units of each block's MLP, as a multiple of `width`.
        pool: "cls" (the [CLS] token) or "mean" (mean of the patch tokens).

    Shape:
        input (B, in_channels, H, W) float, H and W multiples of `patch_size` ->
        output (B, width).

    Raises:
        UserError: `image_size` is not a multiple of `patch_size` (the message says which
            sizes work).

    Example:
        >>> vit = ViT.from_name("vit_tiny", image_size=32, patch_size=4, in_channels=1)
        >>> vit.feature_dim
        192
    """

    def __init__(
        self,
        *,
        image_size: int,
        patch_size: int = 16,
        in_channels: int = 3,
        width: int = 192,
        depth: int = 12,
        heads: int = 3,
        mlp_ratio: float = 4.0,
        pool: Pool = "cls",
    ) -> None:
        super().__init__()
        if min(image_size, patch_size, in_channels, width, depth, heads) < 1 or mlp_ratio <= 0:
            raise ValueError(
                "image_size, patch_size, in_channels, width, depth, heads must be >= 1 and "
                f"mlp_ratio > 0, got {image_size}, {patch_size}, {in_channels}, {width}, "
                f"{depth}, {heads}, {mlp_ratio}"
            )
        if width % heads:
            raise ValueError(f"heads ({heads}) must divide width ({width})")
        if pool not in ("cls", "mean"):
            raise ValueError(f"pool must be 'cls' or 'mean', got {pool!r}")
        check_patch_fits(image_size, image_size, patch_size)
        self.in_channels = in_channels
        self.patch_size = patch_size
        self.image_size = image_size
        self.pool: Pool = pool
        self._feature_dim = width
        self.grid = image_size // patch_size
        self.patch_embed = nn.Conv2d(in_channels, width, patch_size, stride=patch_size)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, width))
        self.pos_embed = nn.Parameter(torch.zeros(1, 1 + self.grid**2, width))
        self.blocks = nn.Sequential(*(Block(width, heads, mlp_ratio) for _ in range(depth)))
        self.norm = nn.LayerNorm(width, eps=1e-6)
        self._init_weights()

    @classmethod
    def from_name(
        cls,
        name: str,
        *,
        image_size: int,
        patch_size: int = 16,
        in_channels: int = 3,
        pool: Pool = "cls",
    ) -> ViT:
        """One of `VIT_ARCHS` ("vit_tiny", "vit_small")."""
        if name not in VIT_ARCHS:
            raise ValueError(f"unknown ViT {name!r} (known: {', '.join(VIT_ARCHS)})")
        arch = VIT_ARCHS[name]
        return cls(
            image_size=image_size,
            patch_size=patch_size,
            in_channels=in_channels,
            width=arch.width,
            depth=arch.depth,
            heads=arch.heads,
            pool=pool,
        )

    @property
    def feature_dim(self) -> int:
        """Size of the pooled output (the token width)."""
        return self._feature_dim

    def _init_weights(self) -> None:
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def _position(self, grid_h: int, grid_w: int) -> Tensor:
        """The position embeddings for a grid_h x grid_w patch grid, shape (1, 1 + h*w, D)."""
        if grid_h == self.grid and grid_w == self.grid:
            return self.pos_embed
        cls_pos, patch_pos = self.pos_embed[:, :1], self.pos_embed[:, 1:]
        d = patch_pos.shape[-1]
        square = patch_pos.reshape(1, self.grid, self.grid, d).permute(0, 3, 1, 2)
        resized = F.interpolate(
            square.float(), size=(grid_h, grid_w), mode="bicubic", align_corners=False
        ).to(patch_pos.dtype)  # (1, D, h, w)
        return torch.cat([cls_pos, resized.flatten(2).transpose(1, 2)], dim=1)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"expected (B, {self.in_channels}, H, W) images, got shape {tuple(x.shape)}"
            )
        h, w = int(x.shape[2]), int(x.shape[3])
        check_patch_fits(h, w, self.patch_size)
        tokens = self.patch_embed(x).flatten(2).transpose(1, 2)  # (B, h*w/P^2, D)
        cls = self.cls_token.expand(x.shape[0], -1, -1)  # (B, 1, D)
        pos = self._position(h // self.patch_size, w // self.patch_size)
        tokens = torch.cat([cls, tokens], dim=1) + pos  # (B, 1 + N, D)
        tokens = self.norm(self.blocks(tokens))
        if self.pool == "cls":
            return tokens[:, 0]
        return tokens[:, 1:].mean(dim=1)
