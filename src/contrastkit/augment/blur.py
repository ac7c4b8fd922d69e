"""Per-sample Gaussian blur of a batch as two batched matrix products."""

from __future__ import annotations

import math

import torch
from torch import Tensor


def gaussian_kernels(sigma: Tensor, radius: int, dtype: torch.dtype) -> Tensor:
    """Normalised 1-D Gaussian kernels exp(-t^2 / (2 sigma^2)) on |t| <= ceil(3 sigma).

    Each sample's kernel reaches its own ceil(3 sigma) (at least 1) and is zero beyond, so
    a sample's blur does not depend on the others in the batch; sigma <= 0 gives the
    identity kernel (1 at t = 0).

    Args:
        sigma: Shape: (B,), in pixels.
        radius: Length of the returned half-window, >= every sample's own radius.

    Returns:
        Shape: (B, 2 * radius + 1).
    """
    offsets = torch.arange(-radius, radius + 1, device=sigma.device, dtype=dtype)
    safe_sigma = sigma.clamp(min=1e-3).to(dtype)[:, None]
    own_radius = torch.ceil(3.0 * sigma.to(dtype)).clamp(min=1.0)[:, None]
    kernel = torch.exp(-0.5 * (offsets[None] / safe_sigma) ** 2)  # (B, K)
    kernel = torch.where(offsets[None].abs() <= own_radius, kernel, 0.0)
    kernel = torch.where((sigma > 0)[:, None], kernel, (offsets == 0).to(dtype)[None])
    return kernel / kernel.sum(dim=1, keepdim=True)


def blur_matrices(sigma: Tensor, n: int, radius: int, dtype: torch.dtype) -> Tensor:
    """Per-sample (n, n) matrices M with (M x)[i] = sum_t kernel[t] x[clamp(i + t, 0, n - 1)]:
    a 1-D Gaussian blur along an axis of length n with replicated edges.

    Args:
        sigma: Shape: (B,), in pixels.

    Returns:
        Shape: (B, n, n).
    """
    kernel = gaussian_kernels(sigma, radius, dtype)  # (B, K)
    taps = torch.arange(-radius, radius + 1, device=sigma.device)
    source = (torch.arange(n, device=sigma.device)[:, None] + taps[None]).clamp(0, n - 1)  # (n, K)
    matrices = torch.zeros(sigma.shape[0], n, n, dtype=dtype, device=sigma.device)
    b = sigma.shape[0]
    return matrices.scatter_add_(
        2, source[None].expand(b, -1, -1), kernel[:, None, :].expand(-1, n, -1)
    )


def gaussian_blur(images: Tensor, sigma: Tensor, *, inplace: bool = False) -> Tensor:
    """Blur each image with its own isotropic Gaussian; sigma <= 0 leaves it unchanged.

    The kernel exp(-t^2 / (2 sigma^2)), normalised, reaches ceil(3 sigma) pixels; edge
    pixels are replicated beyond the border. The separable blur is two
    batched matrix products, `M_h @ x @ M_w^T` (see `blur_matrices`), on the blurred
    samples only.

    Args:
        images: Shape: (B, C, H, W), float.
        sigma: Shape: (B,), in pixels.
        inplace: Write the result into `images` (saves a copy of the batch).
    """
    if sigma.shape != (images.shape[0],):
        raise ValueError(f"sigma must be (B,) = ({images.shape[0]},), got {tuple(sigma.shape)}")
    chosen = (sigma > 0).nonzero().flatten()
    if chosen.numel() == 0:
        return images
    _, _, h, w = images.shape
    s = sigma[chosen]
    radius = max(1, int(math.ceil(3.0 * float(s.max()))))
    m_w = blur_matrices(s, w, radius, images.dtype)  # (b, W, W)
    m_h = m_w if h == w else blur_matrices(s, h, radius, images.dtype)  # (b, H, H)
    x = images.index_select(0, chosen)  # (b, C, H, W)
    blurred = torch.matmul(m_h[:, None], torch.matmul(x, m_w.transpose(1, 2)[:, None]))
    target = images if inplace else images.clone()
    return target.index_copy_(0, chosen, blurred)
