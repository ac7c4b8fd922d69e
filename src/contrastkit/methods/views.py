"""Two views of every image stacked into one batch, and the output split back per view.

Both views go through the network in one pass, so they share BatchNorm statistics (as in
SimCLR's and BYOL's code): rows 0..B-1 are the first views, rows B..2B-1 the second.

Example:
    >>> z_a, z_b = halves(net(stacked_views(batch.images, augment, generator)))
"""

from __future__ import annotations

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
