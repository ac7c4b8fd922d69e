"""Per-sample parameter statistics, determinism with a seed, dtype and device kept."""

from __future__ import annotations

import math

import pytest
import torch

from contrastkit.augment.image import ViewAugment
from contrastkit.augment.views import simclr_view

N = 20_000


def _rate_ok(mask: torch.Tensor, p: float) -> bool:
    """Within 5 standard errors of the Bernoulli rate p."""
    return abs(mask.float().mean().item() - p) < 5 * math.sqrt(p * (1 - p) / mask.numel()) + 1e-9


def _params(aug: ViewAugment, seed: int = 0):  # type: ignore[no-untyped-def]
    return aug.sample((N, 3, 4, 4), generator=torch.Generator().manual_seed(seed))


def test_probabilities_per_sample_match_their_settings() -> None:
    aug = ViewAugment(
        hflip_prob=0.3,
        jitter_prob=0.8,
        brightness=0.4,
        grayscale_prob=0.2,
        blur_prob=0.5,
        solarize_prob=0.1,
    )
    p = _params(aug)
    assert p.jitter_apply is not None and p.grayscale is not None
    assert p.blur_sigma is not None and p.solarize is not None
    assert _rate_ok(p.crops.flip, 0.3)
    assert _rate_ok(p.jitter_apply, 0.8)
    assert _rate_ok(p.grayscale, 0.2)
    assert _rate_ok(p.blur_sigma > 0, 0.5)
    assert _rate_ok(p.solarize, 0.1)


def test_crop_area_aspect_and_position_stay_in_range() -> None:
    c = _params(ViewAugment(crop_scale=(0.2, 0.6), crop_ratio=(0.5, 2.0))).crops
    assert c.area.min() >= 0.2 and c.area.max() <= 0.6
    assert abs(c.area.mean().item() - 0.4) < 0.005  # U(0.2, 0.6): std of the mean 0.0008
    assert abs(c.aspect.log().mean().item()) < 0.01  # log-uniform, symmetric about 1
    assert c.aspect.min() >= 0.5 and c.aspect.max() <= 2.0
    assert (c.width <= 1).all() and (c.height <= 1).all()
    assert (c.center_x.abs() <= 1 - c.width + 1e-6).all()  # the crop lies inside the image
    assert (c.center_y.abs() <= 1 - c.height + 1e-6).all()
    kept = (c.width < 1) & (c.height < 1)
    torch.testing.assert_close(c.width[kept] * c.height[kept], c.area[kept])


def test_jitter_factors_and_blur_sigma_stay_in_range() -> None:
    p = _params(
        ViewAugment(
            jitter_prob=1.0,
            brightness=0.4,
            contrast=1.5,
            saturation=0.2,
            hue=0.1,
            blur_prob=1.0,
            blur_sigma=(0.3, 0.9),
        )
    )
    assert p.jitter is not None and p.blur_sigma is not None
    lows = torch.tensor([0.6, 0.0, 0.8, -0.1])
    highs = torch.tensor([1.4, 2.5, 1.2, 0.1])
    assert (p.jitter >= lows).all() and (p.jitter <= highs).all()
    assert (p.blur_sigma >= 0.3).all() and (p.blur_sigma <= 0.9).all()


def test_rotation_is_uniform_in_range() -> None:
    angle = _params(ViewAugment(rotation_deg=30.0)).crops.angle
    limit = math.radians(30.0)
    assert angle.abs().max() <= limit
    assert abs(angle.mean().item()) < 0.01 and abs(angle.std().item() - limit / math.sqrt(3)) < 0.01


def test_same_seed_same_views_other_seed_other_views() -> None:
    x = torch.randint(0, 256, (8, 3, 12, 12), dtype=torch.uint8)
    aug = simclr_view(size=10)
    a = aug(x, torch.Generator().manual_seed(3))
    b = aug(x, torch.Generator().manual_seed(3))
    c = aug(x, torch.Generator().manual_seed(4))
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert not torch.allclose(a, c)


def test_each_sample_draws_its_own_parameters() -> None:
    x = torch.rand(1, 3, 12, 12).expand(16, -1, -1, -1).contiguous()  # one image, 16 times
    views = simclr_view()(x, torch.Generator().manual_seed(0))
    assert len({tuple(v.flatten()[:8].tolist()) for v in views}) == 16


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
def test_float_dtype_is_kept(dtype: torch.dtype) -> None:
    x = torch.rand(4, 3, 10, 10).to(dtype)
    assert simclr_view(size=6)(x).dtype == dtype


def test_uint8_becomes_float32_on_the_same_device() -> None:
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        x = torch.randint(0, 256, (4, 3, 10, 10), dtype=torch.uint8, device=device)
        gen = torch.Generator(device=device).manual_seed(0)
        out = simclr_view(size=6)(x, gen)
        assert out.dtype == torch.float32 and out.device == x.device


def test_defaults_are_unchanged_for_digits_configs() -> None:
    """The foundation's defaults (crop, rotation, blur, noise) switch every colour op off,
    and an op that is off draws no random numbers."""
    aug = ViewAugment()
    assert (aug.jitter_prob, aug.grayscale_prob, aug.solarize_prob, aug.size) == (0, 0, 0, None)
    p = _params(aug)
    assert p.jitter is None and p.grayscale is None and p.solarize is None


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"hflip_prob": 1.5}, "hflip_prob"),
        ({"hue": 0.7}, "hue"),
        ({"brightness": -0.1}, "brightness"),
        ({"size": 0}, "size"),
        ({"crop_scale": (0.0, 1.0)}, "crop_scale"),
    ],
)
def test_bad_settings_fail_at_construction(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ViewAugment(**kwargs)  # type: ignore[arg-type]
