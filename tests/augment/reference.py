"""Slow, obvious per-image references (NumPy + colorsys) for the batched augment ops."""

from __future__ import annotations

import colorsys

import numpy as np

GRAY = np.array([0.299, 0.587, 0.114])


def gray(img: np.ndarray) -> np.ndarray:
    """(C, H, W) -> (H, W)."""
    if img.shape[0] == 1:
        return img[0]
    return np.tensordot(GRAY, img, axes=1)


def brightness(img: np.ndarray, b: float) -> np.ndarray:
    return np.clip(img * b, 0, 1)


def contrast(img: np.ndarray, c: float) -> np.ndarray:
    return np.clip(c * img + (1 - c) * gray(img).mean(), 0, 1)


def saturation(img: np.ndarray, s: float) -> np.ndarray:
    if img.shape[0] == 1:
        return img
    return np.clip(s * img + (1 - s) * gray(img)[None], 0, 1)


def hue(img: np.ndarray, shift: float) -> np.ndarray:
    if img.shape[0] == 1:
        return img
    out = np.empty_like(img)
    for i in range(img.shape[1]):
        for j in range(img.shape[2]):
            h, s, v = colorsys.rgb_to_hsv(*img[:, i, j])
            out[:, i, j] = colorsys.hsv_to_rgb((h + shift) % 1.0, s, v)
    return out


def jitter(img: np.ndarray, factors: np.ndarray) -> np.ndarray:
    out = brightness(img, factors[0])
    out = contrast(out, factors[1])
    out = saturation(out, factors[2])
    return hue(out, factors[3])


def grayscale(img: np.ndarray) -> np.ndarray:
    return np.repeat(gray(img)[None], img.shape[0], axis=0)


def solarize(img: np.ndarray, threshold: float) -> np.ndarray:
    return np.where(img >= threshold, 1 - img, img)


def blur(img: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian over |t| <= max(1, ceil(3 sigma)), edge pixels replicated."""
    if sigma <= 0:
        return img
    radius = max(1, int(np.ceil(3 * sigma)))
    t = np.arange(-radius, radius + 1)
    k = np.exp(-0.5 * (t / sigma) ** 2)
    k /= k.sum()
    c, h, w = img.shape
    padded = np.pad(img, ((0, 0), (radius, radius), (radius, radius)), mode="edge")
    rows = np.zeros((c, h + 2 * radius, w))
    for j in range(w):
        rows[:, :, j] = padded[:, :, j : j + 2 * radius + 1] @ k
    out = np.zeros((c, h, w))
    for i in range(h):
        out[:, i, :] = np.einsum("k,ckw->cw", k, rows[:, i : i + 2 * radius + 1, :])
    return out


def affine(img: np.ndarray, theta: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """Bilinear sampling of output pixel centres mapped through `theta` (normalised
    coordinates, align_corners=False), zeros outside the image."""
    c, h, w = img.shape
    out = np.zeros((c, out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            x = (2 * j + 1) / out_w - 1
            y = (2 * i + 1) / out_h - 1
            xs, ys = theta @ np.array([x, y, 1.0])
            u = ((xs + 1) * w - 1) / 2  # input pixel coordinates
            v = ((ys + 1) * h - 1) / 2
            u0, v0 = int(np.floor(u)), int(np.floor(v))
            for dv in (0, 1):
                for du in (0, 1):
                    uu, vv = u0 + du, v0 + dv
                    weight = (1 - abs(u - uu)) * (1 - abs(v - vv))
                    if 0 <= uu < w and 0 <= vv < h:
                        out[:, i, j] += weight * img[:, vv, uu]
    return out
