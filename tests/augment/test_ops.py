"""Each batched op with given per-sample parameters equals a per-image reference
(tests/augment/reference.py: NumPy + colorsys) on the same parameters."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from contrastkit.augment.blur import gaussian_blur
from contrastkit.augment.color import (
    adjust_brightness,
    adjust_contrast,
    adjust_hue,
    adjust_saturation,
    color_jitter,
    solarize,
    to_grayscale,
)
from contrastkit.augment.geometry import affine_warp, crop_matrices, sample_crops
from contrastkit.augment.image import ViewAugment

from . import reference as ref

B = 5


def _images(c: int = 3, h: int = 7, w: int = 6, seed: int = 0) -> torch.Tensor:
    return torch.rand(
        B, c, h, w, generator=torch.Generator().manual_seed(seed), dtype=torch.float64
    )


def _factors(low: float, high: float, seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(B, generator=g, dtype=torch.float64) * (high - low) + low


def _per_image(images: torch.Tensor, fn, params) -> np.ndarray:  # type: ignore[no-untyped-def]
    return np.stack([fn(img, p) for img, p in zip(images.numpy(), params, strict=True)])


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize(
    ("op", "reference", "low", "high"),
    [
        (adjust_brightness, ref.brightness, 0.2, 1.8),
        (adjust_contrast, ref.contrast, 0.2, 1.8),
        (adjust_saturation, ref.saturation, 0.0, 2.0),
        (adjust_hue, ref.hue, -0.5, 0.5),
    ],
)
def test_colour_op_matches_per_image_reference(op, reference, low, high, channels) -> None:  # type: ignore[no-untyped-def]
    x, f = _images(channels), _factors(low, high)
    expected = _per_image(x, reference, f.numpy())
    np.testing.assert_allclose(op(x, f).numpy(), expected, atol=1e-10)


def test_hue_shift_by_a_full_turn_is_the_identity() -> None:
    x = _images()
    np.testing.assert_allclose(
        adjust_hue(x, torch.ones(B, dtype=x.dtype)).numpy(), x.numpy(), atol=1e-12
    )


def test_color_jitter_matches_reference_and_skips_unselected_samples() -> None:
    x = _images()
    factors = torch.stack(
        [
            _factors(0.5, 1.5, 1),
            _factors(0.5, 1.5, 2),
            _factors(0.5, 1.5, 3),
            _factors(-0.2, 0.2, 4),
        ],
        dim=1,
    )
    apply = torch.tensor([True, False, True, True, False])
    out = color_jitter(x, factors, apply).numpy()
    for i in range(B):
        expected = ref.jitter(x[i].numpy(), factors[i].numpy()) if apply[i] else x[i].numpy()
        np.testing.assert_allclose(out[i], expected, atol=1e-10)


def test_grayscale_and_solarize_match_reference() -> None:
    x = _images()
    apply = torch.tensor([True, False, True, False, True])
    gray = to_grayscale(x, apply).numpy()
    sol = solarize(x, apply, threshold=0.4).numpy()
    for i in range(B):
        img = x[i].numpy()
        np.testing.assert_allclose(gray[i], ref.grayscale(img) if apply[i] else img, atol=1e-12)
        np.testing.assert_allclose(sol[i], ref.solarize(img, 0.4) if apply[i] else img)


def test_gaussian_blur_matches_reference_per_sample_sigma() -> None:
    x = _images(c=2, h=9, w=8)
    sigma = torch.tensor([0.0, 0.3, 0.8, 1.2, 2.0], dtype=torch.float64)
    out = gaussian_blur(x, sigma).numpy()
    for i in range(B):
        np.testing.assert_allclose(out[i], ref.blur(x[i].numpy(), float(sigma[i])), atol=1e-10)


@pytest.mark.parametrize("out_size", [(7, 6), (4, 5)])
def test_crop_rotate_flip_warp_matches_reference(out_size: tuple[int, int]) -> None:
    x = _images()
    crops = sample_crops(
        B,
        scale=(0.2, 1.0),
        ratio=(0.5, 2.0),
        rotation_deg=30.0,
        hflip_prob=0.5,
        generator=torch.Generator().manual_seed(3),
    )
    theta = crop_matrices(crops).double()
    out = affine_warp(x, theta, out_size).numpy()
    for i in range(B):
        expected = ref.affine(x[i].numpy(), theta[i].numpy(), *out_size)
        np.testing.assert_allclose(out[i], expected, atol=1e-10)


def test_identity_crop_returns_the_image() -> None:
    x = _images()
    theta = torch.tensor([[1.0, 0, 0], [0, 1.0, 0]], dtype=torch.float64).expand(B, 2, 3)
    np.testing.assert_allclose(affine_warp(x, theta).numpy(), x.numpy(), atol=1e-12)


def test_flip_mirrors_the_image() -> None:
    x = _images()
    theta = torch.tensor([[-1.0, 0, 0], [0, 1.0, 0]], dtype=torch.float64).expand(B, 2, 3)
    np.testing.assert_allclose(affine_warp(x, theta).numpy(), x.flip(-1).numpy(), atol=1e-12)


def test_full_view_equals_composition_of_references_on_the_same_parameters() -> None:
    aug = ViewAugment(
        size=(5, 4),
        crop_scale=(0.3, 1.0),
        rotation_deg=20.0,
        hflip_prob=0.5,
        jitter_prob=0.7,
        brightness=0.4,
        contrast=0.4,
        saturation=0.4,
        hue=0.1,
        grayscale_prob=0.3,
        blur_prob=0.6,
        blur_sigma=(0.1, 1.5),
        solarize_prob=0.4,
        noise_std=0.05,
    )
    x = _images(h=8, w=8)
    params = aug.sample(tuple(x.shape), generator=torch.Generator().manual_seed(7), dtype=x.dtype)
    out = aug.apply(x, params).numpy()
    assert params.blur_sigma is not None and params.noise is not None
    assert params.jitter is not None and params.jitter_apply is not None
    assert params.grayscale is not None and params.solarize is not None
    theta = crop_matrices(params.crops).double().numpy()
    for i in range(B):
        img = ref.affine(x[i].numpy(), theta[i], 5, 4)
        if params.jitter_apply[i]:
            img = ref.jitter(img, params.jitter[i].double().numpy())
        if params.grayscale[i]:
            img = ref.grayscale(img)
        img = ref.blur(img, float(params.blur_sigma[i]))
        if params.solarize[i]:
            img = ref.solarize(img, 0.5)
        img = img + params.noise[i].numpy()
        np.testing.assert_allclose(out[i], img, atol=1e-6)


def test_uint8_input_is_scaled_to_unit_range() -> None:
    x = torch.randint(0, 256, (B, 3, 6, 6), dtype=torch.uint8)
    aug = ViewAugment(
        crop_scale=(1.0, 1.0), crop_ratio=(1.0, 1.0), rotation_deg=0.0, blur_prob=0.0, noise_std=0.0
    )
    torch.testing.assert_close(aug(x), x.float() / 255)


def test_a_sample_view_does_not_depend_on_the_rest_of_the_batch() -> None:
    """The batch goes through in CPU chunks and blur radii are per sample: applying the
    parameters of 150 images at once equals applying each image's own parameters alone."""
    aug = ViewAugment(
        size=6,
        hflip_prob=0.5,
        jitter_prob=0.8,
        brightness=0.4,
        contrast=0.4,
        saturation=0.4,
        hue=0.1,
        grayscale_prob=0.2,
        blur_prob=0.5,
        blur_sigma=(0.1, 2.0),
        solarize_prob=0.2,
    )
    x = torch.rand(150, 3, 8, 8, generator=torch.Generator().manual_seed(2))
    params = aug.sample(tuple(x.shape), generator=torch.Generator().manual_seed(3))
    whole = aug.apply(x, params)
    for i in (0, 63, 64, 149):
        alone = aug.apply(x[i : i + 1], params.take(slice(i, i + 1)))
        torch.testing.assert_close(whole[i : i + 1], alone, rtol=0, atol=1e-6)


def test_ops_leave_their_input_alone_unless_inplace() -> None:
    x = _images()
    before = x.clone()
    apply = torch.tensor([True, False, True, True, False])
    factors = torch.tensor([[1.2, 0.8, 1.1, 0.1]], dtype=x.dtype).expand(B, 4)
    color_jitter(x, factors, apply)
    to_grayscale(x, apply)
    gaussian_blur(x, torch.full((B,), 1.0, dtype=x.dtype))
    torch.testing.assert_close(x, before, rtol=0, atol=0)
    out = to_grayscale(x, apply, inplace=True)
    assert out.data_ptr() == x.data_ptr() and not torch.equal(x, before)
