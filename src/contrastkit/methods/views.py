"""The two-view step most recipes share: views -> encoder -> head -> one half per view.

Both views go through the network in one pass, so they share BatchNorm statistics (as in
SimCLR's and BYOL's code), then the output is split back: rows 0..B-1 are the first
views, rows B..2B-1 the second.

Example:
    >>> z_a, z_b = embed_two_views(self.projection, batch.images, augment, generator)
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from contrastkit.augment.types import Augment
from contrastkit.methods.multicrop import two_views


def stacked_views(images: Tensor, augment: Augment, generator: torch.Generator | None) -> Tensor:
    """Two random views of every image, the first views then the second ones.

    Shape:
        images (B, C, H, W) -> (2B, C, H', W').
    """
    return torch.cat(two_views(images, augment, generator))


def halves(z: Tensor) -> tuple[Tensor, Tensor]:
    """The first and the second view's rows of a stacked output.

    Shape:
        (2B, ...) -> two of (B, ...).
    """
    if z.shape[0] % 2 != 0:
        raise ValueError(f"expected an even number of rows (two views), got {tuple(z.shape)}")
    first, second = z.chunk(2)
    return first, second


def embed_two_views(
    net: Callable[[Tensor], Tensor],
    images: Tensor,
    augment: Augment,
    generator: torch.Generator | None,
) -> tuple[Tensor, Tensor]:
    """`net` on two views of every image in one pass, split per view.

    Args:
        net: (2B, C, H', W') -> (2B, P), e.g. a method's `projection`.
        images: Shape: (B, C, H, W), uint8 or float.

    Returns:
        z_a, z_b: Shape: (B, P) each; row i of both comes from image i.
    """
    return halves(net(stacked_views(images, augment, generator)))
